"""cocotb testbenches of quantrtl, their shared stream drivers/monitors/scoreboard, and the
runner that builds and simulates a block's RTL on Verilator or Icarus."""
