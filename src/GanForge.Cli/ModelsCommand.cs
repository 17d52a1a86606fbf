using System.CommandLine;
using GanForge.Gan.Zoo;
using Spectre.Console;

namespace GanForge.Cli;

/// <summary>`ganforge models`: the zoo, one line per variant; with --model, that variant's defaults and options.</summary>
static class ModelsCommand
{
    public static Command Create()
    {
        var model = new Option<string?>("--model") { Description = "Show one model's defaults and options" };
        var cmd = new Command("models", "List the models of the zoo, or one model's defaults and options") { model };
        cmd.SetAction(r => Errors.Guard(() =>
        {
            var console = AnsiConsole.Console;
            if (r.GetValue(model) is { } name)
            {
                var v = ModelZoo.Get(name);
                console.MarkupLine($"[bold]{v.Name}[/]: {Markup.Escape(v.Description)}");
                console.MarkupLine($"image sizes: {Markup.Escape(v.ImageSizes)}; loss {v.Defaults.Loss}, k {v.Defaults.K}");
                foreach (var (group, s) in v.Defaults.Optimizers) console.MarkupLine($"optimizer {group}: {Markup.Escape(s.ToString())}");
                var table = new Table().AddColumn("option (--set KEY=VALUE)").AddColumn("default").AddColumn("meaning");
                foreach (var o in v.Options) table.AddRow(o.Key, Markup.Escape(o.Default), Markup.Escape(o.Description));
                console.Write(table);
                return 0;
            }
            var list = new Table().AddColumn("model").AddColumn("what it is");
            foreach (var v in ModelZoo.All) list.AddRow(v.Name, Markup.Escape(v.Description));
            console.Write(list);
            return 0;
        }));
        return cmd;
    }
}
