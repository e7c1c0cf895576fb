;; Fixture: imports env.add with the wrong type.
(module (import "env" "add" (func (param i64 i32) (result i32))))
