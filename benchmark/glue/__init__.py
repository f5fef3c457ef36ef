"""The thin layer between the algorithms and benchopt: the base class of callback solvers, the
run loop that writes how a run stopped, the cache key that follows the library's code, and the
image frame of benchopt's HTML report."""
