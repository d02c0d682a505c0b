// Clusters with second-scale failure detection share two cores; running test classes in parallel would
// starve silos into false death declarations, so the suite runs one class at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
