"""cocotb test modules: loaded by the simulator (``quantrtl.tb.tests.test_mac``, ...), never
imported by the rest of the package."""
