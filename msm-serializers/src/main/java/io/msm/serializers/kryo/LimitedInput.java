package io.msm.serializers.kryo;

import com.esotericsoftware.kryo.io.Input;

import io.msm.serializers.RejectedContentException;
import io.msm.serializers.SerialFilter;

/**
 * Kryo input that checks every array and string length it is asked for against
 * {@code serialFilter maxarray} and against the bytes that are left, before allocating: a forged
 * length of two billion is an error, not an OutOfMemoryError.
 */
final class LimitedInput extends Input {
    private final SerialFilter filter;

    LimitedInput(SerialFilter filter) {
        this.filter = filter;
    }

    /** Checks a length the caller read itself. */
    void checkLength(long length) {
        filter.checkLength(length, limit - position);
    }

    /**
     * Checks a count of elements against {@code maxarray} alone, for a collection whose elements are
     * not each stored ({@code Collections.nCopies}): the webapp that walks it pays for every one.
     */
    void checkElements(long count) {
        filter.checkLength(count, Long.MAX_VALUE);
    }

    /** Checks the length that the next positive variable-length int announces, without consuming it. */
    void checkNextLength(int minus) {
        int start = position;
        long length = readVarInt(true) - (long) minus;
        position = start;
        checkLength(length);
    }

    /**
     * Checks the count of items, each of at least one byte, that the next positive variable-length int
     * announces against the bytes left only, without consuming it: a count Kryo reads for its own
     * bookkeeping, which no {@code maxarray} of the operator's was meant for.
     */
    void checkNextCount(String what) {
        int start = position;
        long count = readVarInt(true) & 0xFFFFFFFFL;
        position = start;
        if (count > limit - position) {
            throw RejectedContentException.limit(what + ": " + count + " claimed, but only " + (limit - position)
                    + " bytes follow");
        }
    }

    @Override
    public String readString() {
        checkUtf8Length();
        return super.readString();
    }

    @Override
    public StringBuilder readStringBuilder() {
        checkUtf8Length();
        return super.readStringBuilder();
    }

    /** ASCII strings end at a flagged byte and need no check; UTF-8 ones announce their char count. */
    private void checkUtf8Length() {
        if (position < limit && (buffer[position] & 0x80) != 0) {
            int start = position;
            long count = readVarIntFlag(true) - 1L;
            position = start;
            if (count > 0) {
                checkLength(count);
            }
        }
    }

    @Override
    public byte[] readBytes(int length) {
        checkLength(length);
        return super.readBytes(length);
    }

    @Override
    public int[] readInts(int length) {
        checkLength(length);
        return super.readInts(length);
    }

    @Override
    public int[] readInts(int length, boolean optimizePositive) {
        checkLength(length);
        return super.readInts(length, optimizePositive);
    }

    @Override
    public long[] readLongs(int length) {
        checkLength(length);
        return super.readLongs(length);
    }

    @Override
    public long[] readLongs(int length, boolean optimizePositive) {
        checkLength(length);
        return super.readLongs(length, optimizePositive);
    }

    @Override
    public float[] readFloats(int length) {
        checkLength(length);
        return super.readFloats(length);
    }

    @Override
    public double[] readDoubles(int length) {
        checkLength(length);
        return super.readDoubles(length);
    }

    @Override
    public short[] readShorts(int length) {
        checkLength(length);
        return super.readShorts(length);
    }

    @Override
    public char[] readChars(int length) {
        checkLength(length);
        return super.readChars(length);
    }

    @Override
    public boolean[] readBooleans(int length) {
        checkLength(length);
        return super.readBooleans(length);
    }
}
