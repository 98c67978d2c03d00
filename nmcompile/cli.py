"""`nmc`: the command line (docs/design.md §6). Exit codes: 0 ok, 1 run/parity failure, 2 bad input."""
from __future__ import annotations

import argparse
import os
import sys
import traceback

from nmcompile import __version__
from nmcompile.diagnostics import InputError, RunError
from nmcompile.mpi import launched_rank, launched_size

ON_SEVERAL_PROCESSES = ("emulator", "emulator-float")  # the backends that run under mpiexec


def _cmd_validate(args) -> int:
    from nmcompile.summary import one_line_summary
    net = _load(args, needs_input=False)
    print(f"{args.model}: ok: {one_line_summary(net)}")
    return 0


def _cmd_info(args) -> int:
    from nmcompile.summary import info_table
    print(info_table(_load(args, needs_input=False)))
    return 0


def _check_outputs(args, *outputs: tuple[str, str | None, str]) -> None:
    """Before any work: no output may replace the model, a target file or another output, each
    has its kind's extension, and each can be created (see nmcompile.files.outputs)."""
    import os
    from nmcompile.files.outputs import check_outputs
    target = getattr(args, "target", None)
    inputs = [args.model, getattr(args, "input", None)] + \
        ([target] if target and os.path.exists(target) else [])
    check_outputs(inputs, outputs)


def _load(args, *outputs: tuple[str, str | None, str], needs_input: bool = True):
    """The model of `args.model`: a model file, or a NIR graph with --dt (and --input for its
    Input nodes when the command runs it); no output may replace a file it read."""
    from nmcompile.files.inputfiles import recording
    from nmcompile.files.outputs import check_not_inputs
    from nmcompile.frontends.modelfile import load_model
    from nmcompile.frontends.nir import is_nir_file, load_nir
    if not is_nir_file(args.model):
        _refuse_nir_flags(args, "a model file, which says its own dt and inputs")
        with recording() as read:
            net = load_model(args.model)
        check_not_inputs(read, outputs)
        return net
    net = load_nir(args.model, dt=args.dt, discretization=args.discretization or "euler",
                   input=args.input, steps=getattr(args, "steps", None))
    unfed = list(net.metadata["inputs"].values())
    if needs_input and unfed and args.input is None:
        from nmcompile.frontends.nir.errors import file_error
        raise file_error(args.model, f"its Input nodes ({', '.join(unfed)}) need spikes: give "
                                     f"them with --input RASTER.npz (arrays '<node>.spike_steps', "
                                     f"'<node>.spike_neurons')", code="NM713")
    return net


def _refuse_nir_flags(args, what: str) -> None:
    """--dt, --input, --discretization are for NIR graphs: elsewhere a usage error."""
    given = [f for f, v in (("--dt", args.dt), ("--input", args.input),
                            ("--discretization", args.discretization)) if v is not None]
    if given:
        raise InputError(f"{given[0]} is for NIR graphs (.nir); {args.model} is {what}")


def _progress(args) -> bool:
    """Progress bars draw on a terminal (stderr), or anywhere when asked with --progress."""
    return args.progress or (not args.quiet and sys.stderr.isatty())


def _check_run_flags(args) -> None:
    """Flags that do nothing with the chosen backend are usage errors, not silently ignored."""
    from nmcompile.backends import get_backend
    backend = get_backend(args.backend)
    if args.code_target and backend.name != "brian2":
        raise InputError(f"--code-target is a brian2 option; backend {backend.name} has none")
    if args.strict and backend.name != "emulator":
        raise InputError(f"--strict is an emulator option; backend {backend.name} has none")
    if args.threads is not None and not backend.name.startswith("emulator"):
        raise InputError(f"--threads is an emulator option; backend {backend.name} has none")
    if (args.ranks or launched_size() > 1) and backend.name not in ON_SEVERAL_PROCESSES:
        raise InputError(f"only emulator and emulator-float run on several processes; run "
                         f"backend {backend.name} without mpiexec or --ranks")
    if args.target and not backend.capabilities.fixed_point:
        raise InputError(f"--target is for fixed-point backends (emulator, lava-fixed); "
                         f"{backend.name} runs in floating point")
    if args.progress and args.quiet:
        raise InputError("--progress and --quiet contradict each other: give one")
    _check_outputs(args, *_run_outputs(args))


def _launch_ranks(args) -> int:
    """`nmc run … --ranks R`: the same command on R processes started by mpiexec (the one
    the mpich wheel puts beside this Python, else the first on PATH)."""
    import importlib.util
    import shutil
    import subprocess
    from nmcompile.backends import get_backend
    if launched_size() > 1:
        raise InputError("--ranks starts the processes itself: give it without mpiexec, or "
                         "mpiexec without --ranks")
    if get_backend(args.backend).name not in ON_SEVERAL_PROCESSES:
        raise InputError(f"only emulator and emulator-float run on several processes; run "
                         f"backend {args.backend} without --ranks")
    beside = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    mpiexec = beside if os.access(beside, os.X_OK) else shutil.which("mpiexec")
    if mpiexec is None or importlib.util.find_spec("mpi4py") is None:
        raise InputError("--ranks needs MPI: pip install 'nmcompile[mpi]' (mpi4py and the "
                         "mpich wheel, which brings mpiexec)")
    argv, skip = [], False
    for arg in args.argv:  # the command as given, less --ranks R
        if skip or arg.startswith("--ranks="):
            skip = False
            continue
        skip = arg == "--ranks"
        if not skip:
            argv.append(arg)
    return subprocess.call([mpiexec, "-n", str(args.ranks), sys.executable, "-m",
                            "nmcompile.cli", *argv])


def _run_outputs(args) -> tuple:
    return (("-o", args.output, "result"), ("--plot", args.plot, "plot"),
            ("--save-model", args.save_model, "model"))


def _cmd_run(args) -> int:
    from nmcompile import driver
    from nmcompile.frontends.modelfile import is_chip_image
    if args.ranks:
        return _launch_ranks(args)
    if launched_rank() > 0:  # one of several processes: rank 0 alone writes and reports
        args.output = args.plot = args.save_model = None
        args.quiet, args.progress = True, False
    _check_run_flags(args)
    if is_chip_image(args.model):  # a chip image from `nmc compile -o`: run its integers
        from nmcompile.passes.mapping.image import read_image
        _refuse_nir_flags(args, "a chip image, which holds its own dt and inputs")
        model = read_image(args.model).qnet
        net = model.network
    else:
        model = net = _load(args, *_run_outputs(args))
    if args.save_model and not net.plastic_projections():
        raise InputError(f"--save-model: {args.model} has no plastic projection, so nothing "
                         f"learns: give a model with a `learning:` rule")
    options = {"progress": _progress(args)}
    if args.code_target:
        options["code_target"] = args.code_target
    if args.strict:
        options["strict"] = True
    if args.threads is not None:
        options["threads"] = args.threads
    result = driver.run(model, args.backend, steps=args.steps, target=args.target, options=options)
    if args.output:
        result.save(args.output)
    if args.plot:
        from nmcompile.plot import raster_plot
        raster_plot(result, net, args.plot)
    learned_warnings = []
    if args.save_model:
        from nmcompile.frontends.savemodel import save_learned_model
        learned_warnings = save_learned_model(net, result, args.save_model)
    neurons = result.neuron_spike_count()
    from_sources = sum(len(t) for t, _ in result.spikes.values()) - neurons
    print(f"{net.name}: {result.meta['steps']} steps on {result.meta['backend']}: "
          f"{neurons} spikes" + (f" ({from_sources} more from sources)" if from_sources else "")
          + (f" -> {args.output}" if args.output else "")
          + (f"; model with learned weights -> {args.save_model}" if args.save_model else ""))
    for line in _learned_lines(net, result):
        print(line)
    for warning in result.meta.get("warnings", []) + learned_warnings:
        print(f"warning: {warning}", file=sys.stderr)
    return 0


def _learned_lines(net, result) -> list[str]:
    """One line per plastic projection: its mean weight before and after, in model units."""
    lines = []
    for proj in net.plastic_projections():
        learned = result.weights.get(proj.name)
        if learned is None:
            continue
        units = float(result.meta.get("weight_scale", {}).get(proj.name, 1.0))
        after = learned / units
        lines.append(f"  {proj.name} learned: mean weight {proj.weight.mean():.4g} -> "
                     f"{after.mean():.4g}, range [{after.min():.4g}, {after.max():.4g}] "
                     f"(model units)")
    return lines


def _cmd_parity(args) -> int:
    from nmcompile.backends import get_backend
    from nmcompile.driver import check_run_size
    from nmcompile.parity import check_parity, with_v_probes
    from nmcompile.parity.compare import Tolerance
    from nmcompile.parity.report import format_table, write_json, write_junit
    outputs = ("--json", args.json, "json"), ("--junit", args.junit, "junit")
    _check_outputs(args, *outputs)
    tolerance = _tolerance(args.tolerance) if args.tolerance else Tolerance()
    net = _load(args, *outputs)
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    for name in dict.fromkeys(backends):  # too long for any backend: refused before the first runs
        check_run_size(with_v_probes(net), args.steps or net.steps, get_backend(name))

    def progress(run):
        if args.quiet:
            return
        if run.status == "ran":
            secs = run.result.meta.get("wall_time_s") or 0.0
            print(f"  {run.name}: {run.n_spikes} spikes in {secs:.1f} s", file=sys.stderr)
        else:
            print(f"  {run.name}: {run.status} ({run.reason})", file=sys.stderr)
    report = check_parity(net, backends, steps=args.steps, target=args.target,
                          tolerance=tolerance, on_run=progress)
    print(format_table(report))
    if args.json:
        write_json(report, args.json)
    if args.junit:
        write_junit(report, args.junit)
    return 0 if report.ok else 1


def _tolerance(text: str):
    """Tolerance.parse, with a bare key ('abs') told to take a value rather than read as rel."""
    from nmcompile.parity.compare import Tolerance
    for item in (s.strip() for s in text.split(",")):
        if item in ("abs", "rel", "van_rossum", "tau_ms", "weights"):
            raise InputError(f"--tolerance: {item} needs a value, e.g. {item}=2")
    return Tolerance.parse(text)


def _cmd_convert(args) -> int:
    from nmcompile.frontends.savemodel import save_model
    outputs = (("-o", args.output, "model"),)
    _check_outputs(args, *outputs)
    net = _load(args, *outputs)
    save_model(net, args.output)
    print(f"{args.model}: {len(net.populations)} populations, {net.n_synapses:,} synapses, "
          f"dt {net.dt} ms ({net.metadata['discretization']}) -> {args.output}")
    return 0


def _cmd_export(args) -> int:
    from nmcompile.frontends.nir import save_nir
    from nmcompile.frontends.nir.export import raster_path
    # the raster beside the graph (written when the model has spike sources) is checked too
    outputs = (("-o", args.output, "nir"), ("-o's input raster", raster_path(args.output),
                                             "result"))
    _check_outputs(args, *outputs)
    net = _load(args, *outputs)
    written = save_nir(net, args.output)
    print(f"{net.name}: {len(net.populations)} populations, {net.n_synapses:,} synapses -> "
          + ", ".join(written))
    return 0


def _cmd_targets(args) -> int:
    from nmcompile.targets import list_targets
    for target in list_targets():
        print(target.one_line())
    return 0


def _cmd_compile(args) -> int:
    from nmcompile.backends import get_backend
    from nmcompile.driver import DEFAULT_TARGET, check_run_size
    from nmcompile.files.atomic import atomic_output
    from nmcompile.passes.mapping.pipeline import compile_network, emulator_run
    from nmcompile.passes.mapping.report import mapping_report
    from nmcompile.targets import load_target
    outputs = ("-o", args.output, "image"), ("--json", args.json, "json")
    _check_outputs(args, *outputs)
    net = _load(args, *outputs)
    target = load_target(args.target or DEFAULT_TARGET)
    report_run = args.report or args.json or not args.output
    if report_run:  # the traffic report runs the emulator for the model's steps
        check_run_size(net, net.steps, get_backend("emulator"))
    compiled = compile_network(net, target)
    qnet, mapping = compiled.qnet, compiled.mapping
    if args.output:
        from nmcompile.passes.mapping.image import write_image
        write_image(args.output, qnet, mapping)
        print(f"{net.name}: {mapping.n_chips} chip(s), {mapping.cores.size} core(s) on "
              f"{target.name} -> {args.output}")
    if report_run:
        run = emulator_run(qnet, net.steps)
        mrep = mapping_report(net, target, mapping, compiled.costs, run, net.steps)
        if args.json:
            from nmcompile.files.strictjson import dumps
            with atomic_output(args.json, "w") as fh:
                fh.write(dumps(dict(qnet.report.to_dict(), model=net.name,
                                    mapping=mrep.to_dict())))
        if args.report or not args.output:
            print(qnet.report.text())
            print(mrep.text())
    return 0


def _steps(text: str) -> int:
    from nmcompile.ir import MAX_STEPS
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer in 1..{MAX_STEPS}, got {text!r}") \
            from None
    if not 1 <= value <= MAX_STEPS:
        raise argparse.ArgumentTypeError(f"must be an integer in 1..{MAX_STEPS}, got {value}")
    return value


def _threads(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer ≥ 1, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be an integer ≥ 1, got {value}")
    return value


def _dt(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a time step in ms, got {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a time step in ms > 0, got {text!r}")
    return value


def _nir_options(p: argparse.ArgumentParser) -> None:
    """--dt, --discretization, --input: how a NIR graph (no dt, continuous time) is read."""
    group = p.add_argument_group("NIR graphs (.nir)")
    group.add_argument("--dt", type=_dt, metavar="MS", help="the time step in ms (required: a "
                       "NIR graph has none)")
    group.add_argument("--discretization", choices=["euler", "exact"],
                       help="euler (default: v += dt/tau·(v_leak - v + r·I), as Norse and "
                            "snnTorch) or exact (1 - exp(-dt/tau))")
    group.add_argument("--input", metavar="RASTER.npz", help="spikes of the Input nodes: "
                       "'<node>.spike_steps', '<node>.spike_neurons' (a spike at step t reaches "
                       "the first neuron layer at step t), optionally 'steps'")


def _target(text: str) -> str:
    if not text.strip():
        raise argparse.ArgumentTypeError("give a target name (see nmc targets) or a YAML file")
    return text


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nmc", description="Compile a spiking network for Brian2, Lava and a fixed-point "
        "chip emulator, and check that they agree.",
        epilog="Exit codes: 0 success, 1 a run or parity failure, 2 bad input. The model format, "
        "time semantics and parity contract: docs/design.md and README.md of nmcompile.")
    parser.add_argument("--version", action="version", version=f"nmcompile {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("validate", help="check a model; print a summary")
    p.add_argument("model")
    _nir_options(p)
    p.set_defaults(func=_cmd_validate)

    p = sub.add_parser("info", help="populations, neurons, synapses, delays, cycles")
    p.add_argument("model")
    _nir_options(p)
    p.set_defaults(func=_cmd_info)

    p = sub.add_parser("run", help="simulate on one backend; write spikes (.npz)")
    p.add_argument("model", help="model file, or chip image (.nmc) for a fixed-point backend")
    p.add_argument("--backend", "-b", required=True, help="brian2 | lava | lava-fixed | emulator | emulator-float")
    p.add_argument("--target", "-t", type=_target,
                   help="chip target for fixed-point backends (name or YAML file)")
    p.add_argument("--steps", type=_steps, help="run length (default: the model's steps)")
    p.add_argument("-o", "--output", help="write the result here (.npz)")
    p.add_argument("--plot", help="write a spike raster plot here (.png, .pdf, .svg)")
    p.add_argument("--save-model", metavar="LEARNED.yaml",
                   help="write the model here with the learned weights of its plastic "
                        "projections in place of the initial ones, rules kept (.yaml)")
    p.add_argument("--code-target", choices=["numpy", "cython", "cpp_standalone"],
                   help="brian2 only: code generation target (default: numpy)")
    p.add_argument("--strict", action="store_true",
                   help="emulator only: any register overflow (a wrap of LIF u, a saturation "
                        "of v, Izhikevich i, v, u, dv/dt) stops the run as an error")
    p.add_argument("--threads", type=_threads, metavar="N",
                   help="emulator, emulator-float: threads (default: the cores available, at "
                        "most one per 10,000 of neurons + synapses / 100); any number gives "
                        "the same result")
    p.add_argument("--ranks", type=_threads, metavar="R",
                   help="emulator, emulator-float: run on R processes (MPI; started with "
                        "mpiexec); any number gives the same result. `mpiexec -n R nmc run …` "
                        "works too")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    p.add_argument("--progress", action="store_true",
                   help="draw the progress bar even when stderr is not a terminal")
    _nir_options(p)
    p.set_defaults(func=_cmd_run)

    p = sub.add_parser("parity", help="run several backends and check the parity contract")
    p.add_argument("model")
    p.add_argument("--backends", default="brian2,lava,lava-fixed,emulator",
                   help="comma-separated (default: brian2,lava,lava-fixed,emulator)")
    p.add_argument("--target", "-t", type=_target,
                   help="chip target for fixed-point backends (name or YAML file)")
    p.add_argument("--steps", type=_steps, help="run length (default: the model's steps)")
    p.add_argument("--tolerance", help="float vs fixed, per population: 'abs=2,rel=0.25,tau_ms=10' "
                   "(the defaults; add van_rossum=X or weights=X (learned weights) to judge those too)")
    p.add_argument("--junit", help="write a JUnit XML report here (one testcase per pair)")
    p.add_argument("--json", help="write a machine-readable JSON report here")
    p.add_argument("--quiet", "-q", action="store_true", help="no per-backend progress lines")
    _nir_options(p)
    p.set_defaults(func=_cmd_parity)

    p = sub.add_parser("convert", help="write a NIR graph as a model file (.yaml)")
    p.add_argument("model", help="a NIR graph (.nir)")
    p.add_argument("-o", "--output", required=True, help="the model file to write (.yaml)")
    p.add_argument("--steps", type=_steps, help="run length written into the model file "
                   "(default: the raster's steps, else its last spike's step + 1)")
    _nir_options(p)
    p.set_defaults(func=_cmd_convert)

    p = sub.add_parser("export", help="write a model as a NIR graph (.nir)")
    p.add_argument("model", help="a model file (or a NIR graph with --dt)")
    p.add_argument("-o", "--output", required=True,
                   help="the NIR graph to write (.nir); spike sources go to a raster beside it")
    _nir_options(p)
    p.set_defaults(func=_cmd_export)

    p = sub.add_parser("targets", help="list built-in targets")
    p.set_defaults(func=_cmd_targets)

    p = sub.add_parser("compile", help="quantize for a target and report what was lost")
    p.add_argument("model")
    p.add_argument("--target", "-t", type=_target,
                   help="chip target (name or YAML file; default loihi2)")
    p.add_argument("-o", "--output", help="write the chip image here (.nmc)")
    p.add_argument("--report", action="store_true",
                   help="print the quantization and mapping report (printed anyway without -o)")
    p.add_argument("--json", help="write the quantization and mapping report here as JSON")
    _nir_options(p)
    p.set_defaults(func=_cmd_compile)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)
    if launched_rank() > 0:  # one of several MPI processes: rank 0 speaks for all
        sys.stdout = sys.stderr = open(os.devnull, "w")
    if launched_size() > 1 and args.func is not _cmd_run:
        print("nmc: under mpiexec only `nmc run … --backend emulator` (or emulator-float) runs",
              file=sys.stderr)
        return 2
    from nmcompile import signals
    try:
        with signals.handled():  # SIGTERM, SIGHUP like Ctrl-C: runs are torn down on the way out
            return args.func(args)
    except InputError as exc:
        if args.debug:
            traceback.print_exc()
        for diag in exc.diagnostics:
            print(str(diag), file=sys.stderr)
        return 2
    except RunError as exc:
        if args.debug:
            traceback.print_exc()
        print(f"nmc: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt as exc:  # also SIGTERM, SIGHUP: one line, exit 128 + signal
        signum = signals.signal_of(exc)
        print(f"nmc: {signals.message(signum)}", file=sys.stderr)
        return signals.exit_code(signum)
    except BrokenPipeError:  # the reader went away (`nmc info … | head`): nothing to report
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no error at exit's flush
        return 128 + 13  # as a shell reports SIGPIPE
    except Exception as exc:  # a bug (InternalError or anything else): one line, not a traceback
        if args.debug:
            traceback.print_exc()
        print(f"nmc: internal error: {type(exc).__name__}: {exc} "
              f"(run with --debug for the traceback; please report it)", file=sys.stderr)
        if launched_size() > 1:  # the other processes may wait for this one: end them all
            sys.__stderr__.write(f"nmc: process {launched_rank()}: {type(exc).__name__}: "
                                 f"{exc}\n")
            from mpi4py import MPI
            MPI.COMM_WORLD.Abort(1)
        return 1
    finally:  # outputs reserved but never written (see nmcompile.files.atomic)
        from nmcompile.files.atomic import discard_reserved
        discard_reserved()


if __name__ == "__main__":
    sys.exit(main())
