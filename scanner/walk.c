typedef int drift_placeholder_walk;
