"""What every layer shares and no task names: the task protocol, parsing, metric declarations and
field metrics, data loading, generation records and the decoding policy, sample records,
journals, atomic files, errors."""
