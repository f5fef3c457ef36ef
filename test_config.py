"""benchopt test hooks: a solver whose imports fail must FAIL the suite, never be skipped."""


def check_test_solver_install(solver_class):
    solver_class.is_installed(raise_on_not_installed=True)


def check_test_solver_run(benchmark, solver_class):
    assert solver_class.is_installed(raise_on_not_installed=True), (
        f"Solver {solver_class.name} is not installed: its imports failed."
    )
