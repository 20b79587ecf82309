"""voiceskin tooling: masters, students, distillation and the reference ops."""
