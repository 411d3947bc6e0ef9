//! Shared input generators for the imsprep benchmarks.
