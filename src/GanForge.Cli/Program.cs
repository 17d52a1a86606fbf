return GanForge.Cli.CliApp.Run(args);
