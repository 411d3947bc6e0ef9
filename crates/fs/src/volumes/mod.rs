//! The volumes of a disk: partitions, a file system on the whole disk,
//! LVM2 logical volumes.
