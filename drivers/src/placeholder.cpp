// Replaced by the drivers implementation.
