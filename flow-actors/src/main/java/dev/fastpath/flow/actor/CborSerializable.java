package dev.fastpath.flow.actor;

/**
 * Marker for messages serialized with Jackson CBOR when they cross nodes (bound in {@code
 * fastpath-cluster.conf}). Messages carrying protobuf use {@link FlowMessageSerializer} instead.
 */
public interface CborSerializable {}
