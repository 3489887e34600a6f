"""The `r2cnn` command line: one module per subcommand."""
