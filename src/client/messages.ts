/**
 * The package's main entry (`import … from "tradingcore"`): the generated
 * messages, enums and service descriptors of tradingcore.v1. It depends on
 * @bufbuild/protobuf alone, so a browser bundle can take it with connect-web.
 */
export * from "../../gen/tradingcore/v1/common_pb.js";
export * from "../../gen/tradingcore/v1/exit_pb.js";
export * from "../../gen/tradingcore/v1/tick_pb.js";
export * from "../../gen/tradingcore/v1/protection_pb.js";
export * from "../../gen/tradingcore/v1/session_pb.js";
