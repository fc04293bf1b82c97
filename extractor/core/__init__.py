"""What every layer shares and no task names: the task protocol, parsing, metric declarations,
every aggregate and the field metrics, data loading, generation records, sample records, journals,
atomic files, the entry points the registries read, errors."""
