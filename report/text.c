typedef int drift_placeholder_text;
