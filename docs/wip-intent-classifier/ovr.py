import sys; sys.path.insert(0,'/tmp/exp')
from common import *
from sklearn.linear_model import LogisticRegression
from sklearn.feature_extraction.text import TfidfVectorizer
from scipy.sparse import hstack, csr_matrix
d=json.load(open('/work/main/server/data/intents.json'))['intents']
X=[];L=[]
for k,v in d.items():
    for t in v: X.append(t);L.append({k} if k!='none' else set())
extra=sys.argv[1:]  # training jsonl files
for f in extra:
    for r in load(f): X.append(r['text']); L.append(set(r['intents']))
extend(X)
XE=emb(X)
sets={s:load(FIX+s+'.jsonl') for s in ['dev','test','test2']}
ESC=['human_request','complaint','legal_threat','urgency','cancel_refund']
tf=TfidfVectorizer(ngram_range=(1,2),sublinear_tf=True).fit(X)
tfc=TfidfVectorizer(analyzer='char_wb',ngram_range=(2,5),min_df=2,sublinear_tf=True).fit(X)
feat=lambda T,EE:hstack([csr_matrix(EE),tf.transform(T),tfc.transform(T)]).tocsr()
F=feat(X,XE)
for C in [1,3,10]:
  clfs={i:LogisticRegression(C=C,max_iter=3000,class_weight='balanced').fit(F,np.array([i in l for l in L])) for i in ESC}
  for agg in ['max','sum']:
    out=[]
    for s,rows in sets.items():
        T=[r['text'] for r in rows]; FT=feat(T,emb(T))
        P=np.stack([clfs[i].predict_proba(FT)[:,1] for i in ESC])
        sc=P.max(0) if agg=='max' else np.minimum(P.sum(0),1)
        if s=='dev':
            best=max((explicit_f1(rows,sc>=th)[0],th) for th in np.arange(0.3,0.95,0.05)); th=best[1]; out.append('dev %.3f@%.2f'%best)
        else: out.append('%s %.3f'%(s,explicit_f1(rows,sc>=th)[0]))
    print('C',C,agg,' '.join(out))
