"""Learning memory in the mapping (DESIGN §5.3–§5.5): post traces and tags per neuron,
presynaptic traces and rules once per core, priced by the target's `learning` block; the
partition keeps every core within it, a neuron that cannot fit is one located line, the
report shows it, and a network without plasticity maps and reports as before."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

import nmcompile.targets as targets_pkg
from nmcompile.cli import main
from nmcompile.diagnostics import InputError
from nmcompile.ir import LIF, Network, Population, Projection, SpikeArray
from nmcompile.ir.learning import STDP, RewardSTDP
from nmcompile.passes.mapping import partition, population_costs
from nmcompile.passes.mapping.drc import check_design_rules
from nmcompile.passes.mapping.pairs import count_pairs
from nmcompile.passes.mapping.report import mapping_report
from nmcompile.passes.mapping.usage import core_usage
from nmcompile.targets import load_target

POST_BITS, PRE_BITS, TAG_BITS, PRODUCT_BITS = 3 * 7 + 6, 2 * 7 + 6, 9, 32  # tiny, loihi*
STDP_RULE = STDP(learning_rate=2 ** -7, a_plus=1.0, a_minus=-1.0, tau_plus=5.0,
                 tau_minus=5.0)
REWARD_RULE = RewardSTDP(learning_rate=2 ** -7, a_plus=1.0, a_minus=-1.0, tau_plus=5.0,
                         tau_minus=5.0, eligibility_decay=0.5, reward="reward")


def network(n_pre: int, n_post: int, rule, *, plastic_posts: int = 1) -> Network:
    """`plastic_posts` LIF populations of n_post neurons, each entered by a dense projection of
    the n_pre sources (with `rule`, or static for None)."""
    pops = {"src": Population(name="src", size=n_pre, model=SpikeArray()),
            "reward": Population(name="reward", size=1, model=SpikeArray())}
    projs = []
    for k in range(plastic_posts):
        pops[f"post{k}"] = Population(name=f"post{k}", size=n_post,
                                      model=LIF(tau_syn=4.0, tau_mem=20.0, v_th=1.0))
        pre = np.repeat(np.arange(n_pre), n_post).astype(np.int32)
        post = np.tile(np.arange(n_post), n_pre).astype(np.int32)
        projs.append(Projection(name=f"p{k}", pre="src", post=f"post{k}", pre_idx=pre,
                                post_idx=post, weight=np.full(pre.size, 0.2),
                                delay=np.ones(pre.size, np.int32), learning=rule))
    return Network(name="learning", populations=pops, projections=tuple(projs))


def usage(net: Network, target: str):
    t = load_target(target)
    costs = population_costs(net)
    mapping = partition(net, t, costs)
    per_core, capacity = core_usage(net, t, costs, count_pairs(net, mapping))
    return t, costs, mapping, per_core, capacity


def test_learning_bits_of_a_core_are_counted_as_the_design_says():
    """loihi2, one core: 16 post neurons (27 bits each), 8 × 16 tags (9 bits), the traces of
    8 presynaptic neurons (20 bits) and 4 products (32 bits)."""
    net = network(8, 16, REWARD_RULE)
    _, costs, mapping, per_core, capacity = usage(net, "loihi2")
    assert mapping.cores.tolist() == [0]
    assert per_core["learning_bits"][0] == (16 * POST_BITS + 128 * TAG_BITS + 8 * PRE_BITS
                                            + 4 * PRODUCT_BITS)
    assert capacity["learning_bits"] == 1_483_264
    assert costs.learning["post0"].tagged.tolist() == [8] * 16
    # STDP keeps no tags and has two products
    *_, per_core, _ = usage(network(8, 16, STDP_RULE), "loihi2")
    assert per_core["learning_bits"][0] == 16 * POST_BITS + 8 * PRE_BITS + 2 * PRODUCT_BITS


def test_partition_splits_a_plastic_population_by_its_learning_memory():
    """tiny (512 bits a core): an STDP projection of 8 sources shares 8·20 + 2·32 = 224 bits
    per core, leaving room for 10 post neurons of 27 bits: 16 neurons take two cores, which
    the 16 neurons a tiny core holds would not need."""
    _, _, mapping, per_core, capacity = usage(network(8, 16, STDP_RULE), "tiny")
    assert np.bincount(mapping.neuron_cores("post0", 16)).tolist() == [10, 6]
    assert per_core["learning_bits"].tolist() == [10 * 27 + 224, 6 * 27 + 224]
    assert per_core["learning_bits"].max() <= capacity["learning_bits"] == 512
    assert check_design_rules(network(8, 16, STDP_RULE), load_target("tiny"), mapping,
                              population_costs(network(8, 16, STDP_RULE))) == []


@pytest.mark.parametrize("n_pre, n_post, posts", [(3, 4, 2), (5, 7, 2), (2, 9, 3), (6, 3, 1)])
def test_populations_sharing_a_core_keep_within_its_learning_memory(n_pre, n_post, posts):
    """Several plastic populations pack onto tiny's cores (more chips, so the partition is
    judged alone): every core within 512 bits, and the design rules agree."""
    net = network(n_pre, n_post, STDP_RULE, plastic_posts=posts)
    t = load_target("tiny")
    t = replace(t, resources=replace(t.resources, chips=8))
    costs = population_costs(net)
    mapping = partition(net, t, costs)
    per_core, capacity = core_usage(net, t, costs, count_pairs(net, mapping))
    assert per_core["learning_bits"].max() <= capacity["learning_bits"]
    assert check_design_rules(net, t, mapping, costs) == []
    shared = n_pre * PRE_BITS + 2 * PRODUCT_BITS
    holds = [len({int(c) for c in mapping.neuron_cores(f"post{k}", n_post)})
             for k in range(posts)]
    assert per_core["learning_bits"].sum() == posts * n_post * POST_BITS + shared * sum(holds)


def test_a_neuron_whose_learning_state_cannot_fit_is_one_located_line(tmp_path, capsys):
    """A reward rule from 16 sources into one neuron: 27 + 16·9 + 16·20 + 4·32 = 619 bits >
    512 on tiny, while its 16 synapses and 16 input axons fit easily."""
    model = tmp_path / "m.yaml"
    model.write_text("""format: nmcompile/v1
name: crowded-learner
steps: 10
populations:
  src: {model: poisson, size: 16, rate: 50}
  dopamine: {model: spike_array, size: 1, spikes: [[0, 5]]}
  learner: {model: lif, size: 1, tau_syn: 4.0, tau_mem: 20.0, v_th: 1.0}
projections:
  - name: plastic
    pre: src
    post: learner
    connect: all_to_all
    weight: 0.1
    learning: {rule: reward_stdp, learning_rate: 0.0078125, a_plus: 1.0, a_minus: -1.0,
               tau_plus: 5.0, tau_minus: 5.0, eligibility_decay: 0.5, reward: dopamine}
""")
    assert main(["compile", str(model), "--target", "tiny"]) == 2
    err = capsys.readouterr().err
    assert err == (f"{model}:7: populations.learner: population learner: learning memory 619 "
                   f"bits (27 for its traces, 144 for 16 tags, 320 for the traces of 16 "
                   f"presynaptic neurons, 128 for 4 rule products) > 512 per core on tiny (its "
                   f"neuron; plastic projections plastic): fewer presynaptic neurons or plastic "
                   f"projections\n")


def test_report_shows_learning_bits_and_what_they_hold():
    net = network(8, 16, REWARD_RULE)
    t, costs, mapping, per_core, _ = usage(net, "loihi2")
    rep = mapping_report(net, t, mapping, costs)
    assert rep.per_core["learning_bits"] == per_core["learning_bits"].tolist()
    assert rep.learning == {"bits": int(per_core["learning_bits"].sum()), "post_neurons": 16,
                            "tags": 128, "pre_neurons": 8, "products": 4}
    assert "learning_bits" in rep.text() and "learning state 1,872 bits" in rep.text()
    assert rep.to_dict()["learning"]["tags"] == 128


def test_a_network_without_plasticity_maps_and_reports_as_before():
    static = network(8, 16, None)
    t, costs, mapping, _, capacity = usage(static, "tiny")
    assert costs.learning == {} and "learning_bits" not in capacity
    rep = mapping_report(static, t, mapping, costs)
    assert "learning" not in rep.to_dict() and "learning" not in rep.text()
    # the same shape with plasticity on a target that counts no learning memory: as before
    no_learning = load_target("tiny")
    no_learning = replace(no_learning, resources=replace(no_learning.resources, learning=None))
    plastic = network(8, 16, STDP_RULE)
    assert partition(plastic, no_learning).block_core.tolist() == mapping.block_core.tolist()


TINY = (Path(targets_pkg.__file__).parent / "tiny.yaml").read_text()


@pytest.mark.parametrize("old, new, expected", [
    ("    tag_bits: 9 ", "    tag_bits: 8 ", "resources.learning.tag_bits: Lava's learning engine "
                                            "fixes tag_bits to 9, got 8"),
    ("    product_bits: 32\n", "", "resources.learning: missing required key 'product_bits'"),
    ("    memory_bits_per_core: 512", "    memory_bits_per_core: 0",
     "resources.learning.memory_bits_per_core: must be an integer ≥ 1, got 0"),
])
def test_learning_block_errors_name_file_line_and_path(tmp_path, old, new, expected):
    path = tmp_path / "bad.yaml"
    assert old in TINY
    path.write_text(TINY.replace(old, new))
    with pytest.raises(InputError) as info:
        load_target(str(path))
    assert expected in str(info.value) and str(path) in str(info.value)
