package io.msm.serializers;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.Arrays;

/**
 * The buffer a session is encoded into: attributes are serialized straight into it, each as a
 * block whose length is filled in once known, and a block that fails is cut off again.
 */
public final class SessionBytes extends ByteArrayOutputStream {
    final DataOutputStream data = new DataOutputStream(this);
    private final int maxBlock;

    SessionBytes(int size, int maxBlock) {
        super(size);
        this.maxBlock = maxBlock;
    }

    // Unsynchronized: one thread encodes one session.
    @Override
    public void write(int b) {
        ensure(1);
        buf[count++] = (byte) b;
    }

    @Override
    public void write(byte[] b, int off, int len) {
        ensure(len);
        System.arraycopy(b, off, buf, count, len);
        count += len;
    }

    private void ensure(int more) {
        if (count + more > buf.length) {
            buf = Arrays.copyOf(buf, Math.max(buf.length * 2, count + more));
        }
    }

    /** Starts a block of the given kind; @return where it starts, for {@link #endBlock} or {@link #cutTo}. */
    public int beginBlock(int kind) {
        int start = count;
        write(kind);
        writeInt(0);
        return start;
    }

    /** @throws RejectedContentException when the block is too large to be read back */
    public void endBlock(int start) {
        int length = count - start - 5;
        if (length > maxBlock) {
            throw RejectedContentException.limit(length + " bytes exceed " + SerialFilter.ATTRIBUTE + " maxbytes="
                    + maxBlock + ", so they could not be read back");
        }
        patchInt(start + 1, length);
    }

    /** @return the buffer as it is now, valid up to {@link #size()} until the next write */
    byte[] buffer() {
        return buf;
    }

    /** Forgets everything written from {@code position} on. */
    public void cutTo(int position) {
        count = position;
    }

    void writeInt(int v) {
        write(v >>> 24);
        write(v >>> 16);
        write(v >>> 8);
        write(v);
    }

    void patchInt(int position, int v) {
        buf[position] = (byte) (v >>> 24);
        buf[position + 1] = (byte) (v >>> 16);
        buf[position + 2] = (byte) (v >>> 8);
        buf[position + 3] = (byte) v;
    }

    void writeUTF(String s) throws IOException {
        data.writeUTF(s);
    }
}
