package dev.fastpath.ingest.capture;

/**
 * Counters of one {@link PacketPort} since it was opened.
 *
 * @param received frames handed to the caller
 * @param kernelDrops frames the kernel had for this socket but dropped because the receive ring was
 *     full (the pipeline fell behind): lost for forwarding
 * @param ringFreezes times the kernel found the receive ring full and froze it until a block was
 *     returned
 * @param skippedOutgoing frames seen leaving this interface and not received (never forwarded, so
 *     that transmitted frames cannot loop back into the capture)
 * @param transmitted frames the kernel accepted for sending
 * @param transmitErrors frames the kernel refused to send (e.g. larger than the MTU)
 * @param lastTransmitError the kernel's message for the most recent refusal, or empty
 */
public record PortStats(
    long received,
    long kernelDrops,
    long ringFreezes,
    long skippedOutgoing,
    long transmitted,
    long transmitErrors,
    String lastTransmitError) {}
