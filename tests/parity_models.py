"""Two tiny models shared by the `nmc parity` tests and the pytest plugin's tests.

    from parity_models import CLEAR, EDGE  # tests/ is on pytest's pythonpath
"""

# Three inputs of 0.33334 cross v_th = 1 in floats, of 0.33333 do not; the 8-bit fixed-point
# weights cannot tell the two apart, so float and fixed differ at the third input (step 9).
EDGE = """\
format: nmcompile/v1
name: edge
steps: 40
populations:
  src:
    model: spike_array
    size: 1
    spikes: [[0, 2], [0, 5], [0, 8], [0, 11], [0, 14], [0, 17], [0, 20], [0, 23], [0, 26]]
  out: {model: lif, size: 2, tau_syn: 0.001, tau_mem: .inf, v_th: 1.0}
projections:
  - {pre: src, post: out, connect: all_to_all, weight: [0.33334, 0.33333], delay: 1}
"""
CLEAR = (EDGE.replace("name: edge", "name: clear").replace("[0.33334, 0.33333]", "0.5")
         .replace("v_th: 1.0", "v_th: 0.75"))
