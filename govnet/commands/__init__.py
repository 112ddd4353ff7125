"""The commands ``govnet`` offers: name → (module, function, one-line help).

Modules are imported only when their command runs, so ``govnet validate``
does not pay for scapy, matplotlib or dask.
"""

COMMANDS: dict[str, tuple[str, str, str]] = {
    "validate": ("plan", "validate", "Check plans; print every error as FILE:LINE:COL, exit 2 if any."),
    "show": ("plan", "show", "What the plan expands to: counts per domain, level and phase, every node."),
    "addresses": ("addresses", "addresses", "The address register (地址分配表) that keeps automatic addresses from moving."),
    "schema": ("plan", "schema", "The JSON Schema of a plan or a part (for editors), or the format reference."),
    "draw": ("draw", "draw", "Draw the plan laid out by the administrative hierarchy."),
    "import": ("importer", "import_", "Turn a Topology Zoo GraphML, SNDlib file or spreadsheet (.xlsx, .csv) into a plan."),
    "export": ("export", "export", "The address plan (IP地址规划表) or device list (设备清单) as XLSX or CSV."),
    "trace": ("trace", "trace", "Follow one packet hop by hop, with the rule that decided."),
    "reach": ("reach", "reach", "Every class of packets that gets from one selection to another."),
    "check": ("check", "check", "Check the plan against its policies; evidence for every failure."),
    "capacity": ("capacity", "capacity", "Link loads, utilisation and failure sweeps."),
    "diff": ("diff", "diff", "What a change does: model, verdicts, boundary crossings and capacity, OLD against NEW."),
    "report": ("report", "report", "The sign-off report: one HTML page (or PDF) in Chinese or English."),
    "lab": ("lab", "lab", "Build the plan as a real Linux network and check the simulator against the kernel."),
}
