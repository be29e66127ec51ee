//! Rules shared by several operations, each in one place. Operation files import from here,
//! never from each other.

pub mod consumers;
pub mod lifecycle;
pub mod paging;
pub mod positions;
pub mod records;
pub mod shapes;
pub mod tags;
pub mod warm_throughput;
