typedef int drift_placeholder_cli;
