typedef int drift_placeholder_schema;
