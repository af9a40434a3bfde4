"""The debate: five agents over an evidence snapshot, ending in a decision package."""
