typedef int drift_placeholder_hash;
