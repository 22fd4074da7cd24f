import sys, itertools; sys.path.insert(0,'/tmp/exp')
from common import *
from sklearn.linear_model import LogisticRegression
from sklearn.feature_extraction.text import TfidfVectorizer
from scipy.sparse import hstack, csr_matrix
d=json.load(open('/work/main/server/data/intents.json'))['intents']
EX=[(t,k) for k,v in d.items() for t in v]
W={'dev':load(FIX+'dev.jsonl')}
for i in range(1,5): W[f'train{i}']=load(f'/tmp/writers/train{i}.jsonl')
HELD={s:load(FIX+s+'.jsonl') for s in ['test','test2']}
extend([t for t,_ in EX]+[r['text'] for rs in list(W.values())+list(HELD.values()) for r in rs])
def pairs(rows): return [(r['text'],i) for r in rows for i in (r['intents'] or ['none'])]
ESCI=['human_request','complaint','legal_threat','urgency','cancel_refund']
def fit(train, fs, C, cw):
    X=[t for t,_ in train]; Y=np.array([y for _,y in train])
    parts=[]
    if 'w' in fs: tf=TfidfVectorizer(ngram_range=(1,2),sublinear_tf=True).fit(X)
    if 'c' in fs: tfc=TfidfVectorizer(analyzer='char_wb',ngram_range=(2,5),min_df=2,sublinear_tf=True).fit(X)
    def feat(T):
        p=[]
        if 'e' in fs: p.append(csr_matrix(emb(T)))
        if 'w' in fs: p.append(tf.transform(T))
        if 'c' in fs: p.append(tfc.transform(T))
        return hstack(p).tocsr()
    clf=LogisticRegression(C=C,max_iter=5000,class_weight=cw).fit(feat(X),Y)
    esc=[list(clf.classes_).index(i) for i in ESCI]
    return lambda T: clf.predict_proba(feat(T))[:,esc].sum(1)
THS=np.round(np.arange(0.3,0.96,0.05),2)
def evalcfg(fs,C,cw,ex=True):
    per=[]
    for hold in W:
        train=(EX if ex else [])+[p for k,rs in W.items() if k!=hold for p in pairs(rs)]
        sc=fit(train,fs,C,cw)([r['text'] for r in W[hold]])
        per.append([explicit_f1(W[hold],sc>=th)[0] for th in THS])
    per=np.array(per); m=per.mean(0); j=m.argmax()
    return m[j],THS[j],per[:,j]
res=[]
for fs,C,cw in itertools.product(sys.argv[1].split(','),[1,3,10,30],[None,'balanced']):
    m,th,per=evalcfg(fs,C,cw)
    print(fs,C,cw,'cv %.3f @%.2f'%(m,th),' '.join('%.3f'%x for x in per),flush=True)
