using BenchmarkDotNet.Running;

// Pick benchmarks with BenchmarkDotNet's own arguments, e.g. --filter '*RangeMap*' or --job short.
BenchmarkSwitcher.FromAssembly(typeof(MemSvc.Benchmarks.AttributeBenchmarks).Assembly).Run(args);
