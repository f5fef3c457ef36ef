"""benchopt test hooks: a solver whose imports fail must FAIL the suite, never be skipped; a data
set whose files are not on disk is skipped with a reason that says how to get them, unless
POISSON_DEBLUR_REQUIRE_DATA=1 (CI), which makes it a failure."""

from benchopt.config import get_data_path

from benchmark.data.paths import candidate_dirs, find_data_dir, skip_or_fail_missing_data

# benchopt data sets that read a folder of real images (the others need no file in their test
# configuration: scikit-image photographs, simulated images, Gaussian blur).
REAL_DATA_FOLDERS = {"set3c": "set3c", "cbsd68": "CBSD68"}


def check_test_solver_install(solver_class):
    solver_class.is_installed(raise_on_not_installed=True)


def check_test_solver_run(benchmark, solver_class):
    assert solver_class.is_installed(raise_on_not_installed=True), (
        f"Solver {solver_class.name} is not installed: its imports failed."
    )


def check_test_dataset_get_data(benchmark, dataset_class):
    folder = REAL_DATA_FOLDERS.get(dataset_class.name)
    if folder is None:
        return
    extra = [get_data_path(folder)]
    if find_data_dir(folder, extra_dirs=extra) is not None:
        return
    skip_or_fail_missing_data(f"dataset {dataset_class.name} needs its images ({folder}/)",
                              candidate_dirs(folder, extra))
