// libtorch's random generator and thread pool are process-wide: tests that seed the one or size the other would
// disturb each other if xunit ran test classes in parallel.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
