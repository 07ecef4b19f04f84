// SpecTaskDomain: the rules of the system as pure values and functions (entities, status transition tables,
// the implementation-plan parser, progress). No I/O: everything here is testable without a broker or database.
