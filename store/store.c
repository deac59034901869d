typedef int drift_placeholder_store;
