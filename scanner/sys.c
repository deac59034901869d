typedef int drift_placeholder_sys;
