typedef int drift_placeholder_report;
