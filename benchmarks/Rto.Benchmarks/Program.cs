System.Console.WriteLine("Benchmarks are being written; see docs/performance.md.");
