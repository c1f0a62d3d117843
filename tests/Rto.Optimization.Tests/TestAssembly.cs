// The optimizer tests are CPU-bound and independent: one class per core.
[assembly: Parallelize(Workers = 2, Scope = ExecutionScope.ClassLevel)]
