// A plain Verilog top that instantiates quantrtl's requantizer (emitted by
// `quantrtl verilog requant -o <dir>`: module quantrtl_requant) and streams vectors
// through it from a hex file, writing one decimal result per line.
//
//   iverilog -g2012 -o top top.v <dir>/quantrtl_requant.v && vvp top +vectors=in.hex +out=out.txt +count=N
//
// in.hex: one 70-bit payload per line, {shift[5:0], multiplier[31:0], acc[31:0]} (the
// field offsets are in <dir>/quantrtl_requant.json); the output is held ready, the input
// offered every cycle: one result per clock after the requantizer's latency.
`timescale 1ns/1ps
module top;
  reg clk = 0, rst = 1;
  always #5 clk = ~clk;

  reg  [69:0] in_payload;
  reg         in_valid = 0;
  wire        in_ready;
  wire signed [7:0] out_payload;
  wire        out_valid;

  quantrtl_requant dut (
    .clk(clk), .rst(rst),
    .i__payload(in_payload), .i__valid(in_valid), .i__ready(in_ready),
    .o__payload(out_payload), .o__valid(out_valid), .o__ready(1'b1),
    .zero_point(8'sd3), .qmin(-8'sd128), .qmax(8'sd127)
  );

  reg [69:0] vectors [0:65535];
  integer count, sent, received, fd;
  reg [1023:0] vector_file, out_file;

  initial begin
    if (!$value$plusargs("vectors=%s", vector_file)) $fatal(1, "+vectors= is required");
    if (!$value$plusargs("out=%s", out_file)) $fatal(1, "+out= is required");
    if (!$value$plusargs("count=%d", count)) $fatal(1, "+count= is required");
    $readmemh(vector_file, vectors);
    fd = $fopen(out_file, "w");
    sent = 0; received = 0;
    repeat (2) @(posedge clk);
    rst <= 0;
  end

  always @(posedge clk) if (!rst) begin
    if (in_valid && in_ready) sent = sent + 1;
    in_valid <= sent < count;
    in_payload <= vectors[sent];
    if (out_valid) begin
      $fdisplay(fd, "%0d", out_payload);
      received = received + 1;
      if (received == count) begin
        $fclose(fd);
        $finish;
      end
    end
  end

  initial begin
    #1000000;
    $fatal(1, "timeout: %0d of %0d results", received, count);
  end
endmodule
