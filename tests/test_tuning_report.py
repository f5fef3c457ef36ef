"""The tuning report scores each parameter set by its final PSNR averaged over kernels."""

import pandas as pd

from benchmark.reporting.tuning_report import render, tuning_table, varying_parameters


def records():
    rows = []
    for kernel, psnrs in (("gaussian", (20.0, 22.0)), ("motion", (19.0, 16.0))):
        for lam, final in zip(("1.0", "2.0"), psnrs):
            for stop_val, value in ((1, 10.0), (5, final)):
                rows.append({"dataset_name": f"cbsd68[kernel={kernel},alpha=40]",
                             "solver_name": f"b_red[device=auto,lam={lam},tol=1e-07]",
                             "idx_rep": 0, "p_dataset_alpha": 40.0, "p_dataset_kernel": kernel,
                             "stop_val": stop_val, "objective_psnr": value, "time": stop_val})
    return pd.DataFrame(rows)


def test_best_parameter_set_is_the_best_mean_of_final_values():
    table = tuning_table(records())
    means = dict(zip(table["solver_name"].str.extract(r"lam=([0-9.]+)")[0], table["psnr"]))
    assert means == {"1.0": 19.5, "2.0": 19.0}  # last records only, averaged over kernels
    assert set(table["runs"]) == {2} and set(table["seconds"]) == {10}
    text = render(table)
    assert "| **lam=1.0** | 19.50 | 2 | 10 |" in text
    assert "| lam=2.0 | 19.00 | 2 | 10 |" in text
    assert "Total: 4 runs, 20 s of solver time." in text


def test_only_the_parameters_that_vary_are_shown():
    names = ["s[a=1,b=2,c=3]", "s[a=1,b=5,c=4]"]
    assert varying_parameters(names) == ["b=2,c=3", "b=5,c=4"]
