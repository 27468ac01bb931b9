package io.msm.serializers.kryo;

import com.esotericsoftware.kryo.io.Output;

import io.msm.serializers.SerialFilter;

/**
 * Kryo output that refuses to write an array longer than {@code serialFilter maxarray}: the reader
 * ({@link LimitedInput}) would refuse it, and with it the whole session. Refused here, only that
 * attribute is left out, with a WARN naming it, and the rest of the session survives a failover.
 */
final class LimitedOutput extends Output {
    private final SerialFilter filter;

    LimitedOutput(int bufferSize, int maxBufferSize, SerialFilter filter) {
        super(bufferSize, maxBufferSize);
        this.filter = filter;
    }

    private void check(int count) {
        filter.checkLength(count, Long.MAX_VALUE);
    }

    /** Checks a collection's count of elements where they are not each written ({@code Collections.nCopies}). */
    void checkElements(int count) {
        check(count);
    }

    @Override
    public void writeBytes(byte[] bytes, int offset, int count) {
        check(count);
        super.writeBytes(bytes, offset, count);
    }

    @Override
    public void writeInts(int[] array, int offset, int count) {
        check(count);
        super.writeInts(array, offset, count);
    }

    @Override
    public void writeInts(int[] array, int offset, int count, boolean optimizePositive) {
        check(count);
        super.writeInts(array, offset, count, optimizePositive);
    }

    @Override
    public void writeLongs(long[] array, int offset, int count) {
        check(count);
        super.writeLongs(array, offset, count);
    }

    @Override
    public void writeLongs(long[] array, int offset, int count, boolean optimizePositive) {
        check(count);
        super.writeLongs(array, offset, count, optimizePositive);
    }

    @Override
    public void writeFloats(float[] array, int offset, int count) {
        check(count);
        super.writeFloats(array, offset, count);
    }

    @Override
    public void writeDoubles(double[] array, int offset, int count) {
        check(count);
        super.writeDoubles(array, offset, count);
    }

    @Override
    public void writeShorts(short[] array, int offset, int count) {
        check(count);
        super.writeShorts(array, offset, count);
    }

    @Override
    public void writeChars(char[] array, int offset, int count) {
        check(count);
        super.writeChars(array, offset, count);
    }

    @Override
    public void writeBooleans(boolean[] array, int offset, int count) {
        check(count);
        super.writeBooleans(array, offset, count);
    }
}
