typedef int drift_placeholder_format;
