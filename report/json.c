typedef int drift_placeholder_json;
