"""Rto's worker for one Python task file.

The server starts one of these per job (python3 -I -B -u rto_job_worker.py job.json), usually
inside bubblewrap. It lowers its resource limits, loads the input the server staged (raw column
buffers, one set per partition), imports the task file, calls its main(ddf) with a Dask DataFrame
(pandas when dask is missing) and streams the result back on the stdout it was started with.
The task's own prints go to stderr. Every message is a 4-byte little-endian length, a JSON header
and, for text and table chunks, the payload bytes the header announces.
"""

import json
import os
import signal
import struct
import sys
import traceback

WORKER = os.path.abspath(__file__)
NUMERIC = {"f8", "f4", "i8", "i4", "i2", "i1", "u8", "u4", "u2", "u1", "b1"}


class LimitReached(Exception):
    """A resource limit of the job was reached."""


def main():
    with open(sys.argv[1], "rb") as file:
        job = json.load(file)
    staging = os.path.dirname(os.path.abspath(sys.argv[1]))

    # The result channel is the stdout the server reads; everything the task prints goes to stderr.
    channel = os.fdopen(os.dup(1), "wb", buffering=1 << 16)
    os.dup2(2, 1)
    try:
        apply_limits(job["limits"])
        result = run_task(job, staging)
        send_result(channel, result, job)
    except BaseException as error:  # the task's SystemExit and KeyboardInterrupt are failures too
        send(channel, {"type": "error", "message": describe(error)})
    channel.flush()


def apply_limits(limits):
    import resource

    def lower(kind, soft, hard):
        current_soft, current_hard = resource.getrlimit(kind)
        if current_hard != resource.RLIM_INFINITY:
            hard = min(hard, current_hard)
        resource.setrlimit(kind, (min(soft, hard), hard))

    lower(resource.RLIMIT_AS, limits["memory"], limits["memory"])
    lower(resource.RLIMIT_FSIZE, limits["fileSize"], limits["fileSize"])
    lower(resource.RLIMIT_CORE, 0, 0)
    # At the soft limit SIGXCPU turns into an exception with a clear message; the hard one kills.
    lower(resource.RLIMIT_CPU, limits["cpuSeconds"], limits["cpuSeconds"] + 5)

    def cpu_exhausted(signum, frame):
        raise LimitReached(
            f"The task used its CPU time limit (Jobs:Python:CpuTime, {limits['cpuSeconds']} s).")

    signal.signal(signal.SIGXCPU, cpu_exhausted)
    # A write past the file size limit then fails with OSError instead of killing the worker.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)


def run_task(job, staging):
    import importlib.util
    import types

    frame, client = load_input(job, staging)

    # The original imported every task file as the module tasks.work.
    package = types.ModuleType("tasks")
    package.__path__ = []
    sys.modules["tasks"] = package
    spec = importlib.util.spec_from_file_location("tasks.work", job["task"])
    module = importlib.util.module_from_spec(spec)
    sys.modules["tasks.work"] = module
    spec.loader.exec_module(module)
    if client is not None:
        # Cluster workers cannot import the task file: its functions travel by value.
        import cloudpickle
        cloudpickle.register_pickle_by_value(module)

    try:
        result = module.main(frame)
        if hasattr(result, "__dask_graph__") and callable(getattr(result, "compute", None)):
            result = result.compute()
        return result
    finally:
        if client is not None:
            client.close()


# ---------------------------------------------------------------------------------------------
# Input: the staged partitions as pandas frames, wrapped in a Dask DataFrame.

def load_input(job, staging):
    import numpy as np
    import pandas as pd

    columns = job["columns"]
    partitions = job["partitions"]
    index_columns = [c for c in job.get("indexColumns", []) if isinstance(c, str)]

    def convert(column, values, offsets, mask):
        # A column with a null anywhere gets the nullable form in every partition, as the meta says.
        kind = column["type"]
        nulls = mask is not None
        if kind in NUMERIC:
            if not nulls:
                return values
            if kind == "b1":
                out = values.astype(object)
                out[mask] = None
                return out
            out = values.astype("f8") if kind[0] in "iu" else values.copy()
            out[mask] = np.nan
            return out
        if kind == "ts":
            out = values.copy()
            if nulls:
                out[mask] = np.iinfo(np.int64).min  # NaT
            out = out.view("M8[ns]")
            return pd.DatetimeIndex(out).tz_localize("UTC") if column.get("tz") else out
        if kind == "date":
            out = values.astype("M8[D]").astype(object)
            if nulls:
                out[mask] = None
            return out
        # Text, binary and decimals: one value per offset pair.
        if kind == "str":
            decode = lambda item: item.decode("utf-8")
        elif kind == "dec":
            import decimal
            decode = lambda item: decimal.Decimal(item.decode("ascii"))
        else:
            decode = bytes
        out = np.empty(len(offsets) - 1, dtype=object)
        for i in range(len(out)):
            out[i] = None if nulls and mask[i] else decode(values[offsets[i]:offsets[i + 1]].tobytes())
        return out

    def dtype(kind):
        return {"ts": "<i8", "date": "<i8", "str": "u1", "bin": "u1", "dec": "u1", "b1": "?"}.get(kind, "<" + kind)

    def build(arrays):
        frame = pd.DataFrame({c["name"]: a for c, a in zip(columns, arrays)}, columns=[c["name"] for c in columns])
        present = [c for c in index_columns if c in frame.columns]
        if present:
            # As pyarrow restores a pandas-written index; unnamed levels were stored as __index_level_N__.
            frame = frame.set_index(present)
            frame.index.names = [None if n.startswith("__index_level_") else n for n in frame.index.names]
        return frame

    def load(number):
        arrays = []
        for j, column in enumerate(columns):
            base = os.path.join(staging, f"p{number}.c{j}")
            values = np.fromfile(base + ".data", dtype=dtype(column["type"]))
            offsets = np.fromfile(base + ".offsets", dtype="<i8") if column["type"] in ("str", "bin", "dec") else None
            mask = np.fromfile(base + ".mask", dtype="?") if column["nulls"] else None
            arrays.append(convert(column, values, offsets, mask))
        return build(arrays)

    def empty():
        arrays = []
        for column in columns:
            kind = column["type"]
            values = np.empty(0, dtype=dtype(kind))
            offsets = np.zeros(1, dtype="<i8") if kind in ("str", "bin", "dec") else None
            mask = np.ones(0, dtype="?") if column["nulls"] else None
            arrays.append(convert(column, values, offsets, mask))
        return build(arrays)

    try:
        import dask
        import dask.dataframe as dd
    except ImportError:
        parts = [load(i) for i in range(len(partitions))]
        return (pd.concat(parts, ignore_index=not index_columns) if parts else empty()), None

    client = None
    meta = empty()
    if job.get("scheduler"):
        from dask.distributed import Client
        client = Client(job["scheduler"], timeout="30s", set_as_default=True)
        # The cluster cannot see the server's files: the partitions travel to it.
        futures = client.scatter([load(i) for i in range(len(partitions))])
        return dd.from_delayed(futures, meta=meta, verify_meta=False), client
    parts = [dask.delayed(load, pure=True)(i) for i in range(len(partitions))]
    return dd.from_delayed(parts, meta=meta, verify_meta=False), None


# ---------------------------------------------------------------------------------------------
# Output: a table (streamed in chunks, written to Parquet by the server) or str(result).

def send(channel, header, payload=()):
    data = json.dumps(header).encode("utf-8")
    channel.write(struct.pack("<I", len(data)))
    channel.write(data)
    for part in payload:
        channel.write(part)
    channel.flush()


def send_result(channel, result, job):
    table = as_table(result, job["resultFormat"])
    if table is None:
        text = str(result).encode("utf-8", "backslashreplace")
        if len(text) > job["limits"]["resultSize"]:
            raise LimitReached(
                f"The result's text is {len(text)} bytes, more than Jobs:Python:MaxResultSize ({job['limits']['resultSize']}) allows.")
        send(channel, {"type": "text", "length": len(text)}, [text])
        return

    names, wires = table
    send(channel, {"type": "table", "columns": [
        {"name": n, "type": w[0], "nullable": w[2] is not None, "tz": w[3]} for n, w in zip(names, wires)]})
    rows = len(wires[0][1]) if wires else 0
    row_bytes = max(1, sum(w[1].itemsize if w[0] not in ("str", "bin") else 32 for w in wires))
    step = max(1, min(1 << 20, job["chunkBytes"] // row_bytes))
    import numpy as np
    total = 0
    for start in range(0, max(rows, 1) if wires else 0, step):
        end = min(rows, start + step)
        parts, lengths = [], []
        for kind, values, mask, _ in wires:
            if kind in ("str", "bin"):
                items = [b"" if v is None else (v.encode("utf-8") if kind == "str" else bytes(v)) for v in values[start:end]]
                data = b"".join(items)
                offsets = np.zeros(len(items) + 1, dtype="<i8")
                np.cumsum([len(i) for i in items], out=offsets[1:])
                chunk = [data, offsets.tobytes()]
            else:
                chunk = [values[start:end].tobytes(), b""]
            chunk.append(b"" if mask is None else mask[start:end].tobytes())
            lengths.append([len(p) for p in chunk])
            parts.extend(chunk)
        total += sum(sum(length) for length in lengths)
        if total > job["limits"]["resultSize"]:
            raise LimitReached(
                f"The result is larger than Jobs:Python:MaxResultSize ({job['limits']['resultSize']} bytes).")
        send(channel, {"type": "chunk", "rows": end - start, "lengths": lengths}, parts)
    send(channel, {"type": "end"})


def as_table(result, result_format):
    """The result as (names, [(type, values, mask or None, tz or None)]), or None when it is text."""
    import numpy as np
    import pandas as pd

    if result_format == "original":
        # What pandas 1.5 + pyarrow stored: pandas.DataFrame(result) with string column names.
        try:
            frame = pd.DataFrame(result)
        except Exception:
            return None
        if isinstance(frame.columns, pd.MultiIndex) or frame.columns.inferred_type not in ("string", "empty"):
            return None
        unnamed = None
    elif isinstance(result, pd.DataFrame):
        frame, unnamed = result, None
    elif isinstance(result, pd.Series):
        frame, unnamed = (result.to_frame(), None) if result.name is not None else (result.to_frame("value"), "value")
    elif isinstance(result, np.ndarray) and result.ndim == 1:
        frame, unnamed = pd.DataFrame({"value": result}), "value"
    elif isinstance(result, np.ndarray) and result.ndim == 2:
        frame, unnamed = pd.DataFrame(result), None
    else:
        return None

    if len(frame.columns) == 0:
        return None  # Parquet needs a column
    names, wires = [], []
    items = list(frame.items())
    if not isinstance(frame.index, pd.RangeIndex):
        # pyarrow keeps a RangeIndex as metadata only and stores any other index as columns.
        for level, name in enumerate(frame.index.names):
            values = frame.index.get_level_values(level)
            items.append((f"__index_level_{level}__" if name is None else name, pd.Series(values, index=frame.index)))
    for name, series in items:
        name = str(name)
        wire = column_wire(series)
        if wire is None:
            return None
        if wire == "complex":
            if result_format == "original":
                return None  # pyarrow could not store complex numbers
            values = series.to_numpy()
            real_names = ("re", "im") if name == unnamed else (f"{name}_re", f"{name}_im")
            for part_name, part in zip(real_names, (values.real, values.imag)):
                names.append(part_name)
                wires.append((part.dtype.str[1:], np.ascontiguousarray(part), None, None))
            continue
        names.append(name)
        wires.append(wire)
    return names, wires


def column_wire(series):
    import numpy as np
    import pandas as pd

    dtype = series.dtype
    if isinstance(dtype, pd.DatetimeTZDtype):
        mask = series.isna().to_numpy()
        values = series.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy("M8[ns]").view("<i8")
        return ("ts", values, mask if mask.any() else None, "UTC")
    if isinstance(dtype, pd.StringDtype):
        dtype = np.dtype(object)
        series = series.astype(object)
    elif isinstance(dtype, pd.api.extensions.ExtensionDtype):
        # Nullable Int64, Float64, boolean: values with a mask.
        kind = getattr(dtype, "numpy_dtype", None)
        if kind is None or kind.kind not in "iufb":
            return None
        mask = series.isna().to_numpy()
        values = series.to_numpy(dtype=kind, na_value=0 if kind.kind != "b" else False)
        return (wire_code(values.dtype), np.ascontiguousarray(values), mask if mask.any() else None, None)
    if dtype.kind == "c":
        return "complex"
    if dtype.kind in "iufb":
        values = series.to_numpy()
        if values.dtype == np.float16:
            values = values.astype("f4")
        return (wire_code(values.dtype), np.ascontiguousarray(values), None, None)
    if dtype.kind == "M":
        values = series.to_numpy("M8[ns]")
        mask = np.isnat(values)
        return ("ts", values.view("<i8"), mask if mask.any() else None, None)
    if dtype.kind == "O":
        # pandas marks missing text with None, NaN or pd.NA.
        values = np.array([None if v is None or v is pd.NA or (isinstance(v, float) and v != v) else v
                           for v in series.to_numpy()], dtype=object)
        if all(v is None or isinstance(v, str) for v in values):
            kind = "str"
        elif all(v is None or isinstance(v, (bytes, bytearray)) for v in values):
            kind = "bin"
        else:
            return None
        mask = np.array([v is None for v in values], dtype="?")
        return (kind, values, mask if mask.any() else None, None)
    return None


def wire_code(dtype):
    return "b1" if dtype.kind == "b" else dtype.str[1:]


def describe(error):
    """The traceback of the task's failure, without the worker's own frames."""
    if isinstance(error, LimitReached) and error.__traceback__ is not None and all(
            frame.filename == WORKER for frame in traceback.extract_tb(error.__traceback__)):
        return str(error)
    summary = traceback.TracebackException.from_exception(error)
    frames = [frame for frame in summary.stack if frame.filename != WORKER]
    summary.stack = traceback.StackSummary.from_list(frames)
    return "".join(summary.format()).rstrip()


if __name__ == "__main__":
    main()
