import json, numpy as np
texts=[l.rstrip('\n') for l in open('/tmp/exp/texts.txt')]
E=np.load('/tmp/exp/emb.npy'); idx={t:i for i,t in enumerate(texts)}
def extend(more):
    global E
    new=[t for t in more if t not in idx]
    if new:
        import importlib.util,sys
        sys.path.insert(0,'/tmp/exp'); from embed import embed
        v=embed(new); 
        for t in new: idx[t]=len(texts); texts.append(t)
        E=np.concatenate([E,v])
def emb(ts): return E[[idx[t] for t in ts]]
INT=['human_request','complaint','cancel_refund','legal_threat','urgency']
def load(path):
    return [json.loads(l) for l in open(path)]
FIX='/work/main/tests/fixtures/support_transcripts/'
def explicit_f1(rows, pred):
    tp=fp=fn=0
    for r,p in zip(rows,pred):
        pos = any(i in r['intents'] for i in ('human_request','complaint'))
        neg = not r['escalate']
        if not pos and not neg: continue
        if pos and p: tp+=1
        elif pos: fn+=1
        elif p: fp+=1
    P=tp/(tp+fp) if tp+fp else 0; R=tp/(tp+fn) if tp+fn else 0
    return (2*P*R/(P+R) if P+R else 0), P, R
def esc_f1(rows,pred):
    tp=sum(1 for r,p in zip(rows,pred) if r['escalate'] and p); fp=sum(1 for r,p in zip(rows,pred) if not r['escalate'] and p); fn=sum(1 for r,p in zip(rows,pred) if r['escalate'] and not p)
    P=tp/(tp+fp) if tp+fp else 0; R=tp/(tp+fn) if tp+fn else 0
    return (2*P*R/(P+R) if P+R else 0)
