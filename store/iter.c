typedef int drift_placeholder_iter;
