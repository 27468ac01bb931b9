package io.msm.core;

import io.msm.shaded.net.spy.memcached.CachedData;
import io.msm.shaded.net.spy.memcached.transcoders.Transcoder;

/** Hands our frames to spymemcached untouched: no flags, no compression of its own. */
final class RawBytes implements Transcoder<byte[]> {
    static final RawBytes INSTANCE = new RawBytes();

    @Override
    public boolean asyncDecode(CachedData d) {
        return false;
    }

    @Override
    public CachedData encode(byte[] o) {
        return new CachedData(0, o, getMaxSize());
    }

    @Override
    public byte[] decode(CachedData d) {
        return d.getData();
    }

    @Override
    public int getMaxSize() {
        return CachedData.MAX_SIZE;
    }
}
