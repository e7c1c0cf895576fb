;; Fixture: asks for more memory than the test's limit allows at start.
(module (memory 5))
