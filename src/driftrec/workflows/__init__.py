"""End-to-end workflows the CLI and notebooks call: prepare data, fit and evaluate, bundle, demo."""
