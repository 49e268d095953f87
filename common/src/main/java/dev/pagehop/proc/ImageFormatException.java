package dev.pagehop.proc;

/**
 * A process image could not be decoded or is inconsistent: wrong magic, an unsupported version,
 * a truncated or corrupt section, or values that cannot belong together. The message names the
 * offset, section and values.
 */
public class ImageFormatException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public ImageFormatException(String message) {
        super(message);
    }
}
